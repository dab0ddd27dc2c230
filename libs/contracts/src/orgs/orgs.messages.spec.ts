import { messagesForUnknownFields, refusedFields } from '../testing/contract-refusals';
import { GET_MEMBER_ROLE_REQUEST, GET_ORGANIZATION_REQUEST, GetMemberRoleRequest, GetOrganizationRequest } from './orgs.messages';

const ORG_ID = 'org_01J0000000000000000000000A';
const USER_ID = 'usr_01J0000000000000000000000B';

describe('orgs.get contract', () => {
  it('takes an organisation id', () => {
    const payload: GetOrganizationRequest = { org_id: ORG_ID };
    expect(refusedFields(GET_ORGANIZATION_REQUEST, payload)).toEqual([]);
  });

  it.each<[string, unknown, string[]]>([
    ['no org_id', {}, ['org_id']],
    ['a user id', { org_id: USER_ID }, ['org_id']],
    ['an id as a number', { org_id: 42 }, ['org_id']],
    ['an unknown field beside a good id', { org_id: ORG_ID, extra: true }, ['extra']],
    ['a junk id and an unknown field', { org_id: 'org_1', extra: true }, ['extra', 'org_id']],
    ['null', null, ['body']],
  ])('refuses %s, naming the bad field', (_, payload, fields) => {
    expect(refusedFields(GET_ORGANIZATION_REQUEST, payload)).toEqual(fields);
  });

  it('words only fields it has', () => {
    expect(messagesForUnknownFields(GET_ORGANIZATION_REQUEST)).toEqual([]);
  });
});

describe('orgs.member_role contract', () => {
  it('takes an organisation and a user id', () => {
    const payload: GetMemberRoleRequest = { org_id: ORG_ID, user_id: USER_ID };
    expect(refusedFields(GET_MEMBER_ROLE_REQUEST, payload)).toEqual([]);
  });

  it.each<[string, unknown, string[]]>([
    ['no user_id', { org_id: ORG_ID }, ['user_id']],
    ['a junk user_id', { org_id: ORG_ID, user_id: 'usr_1' }, ['user_id']],
    ['the ids swapped', { org_id: USER_ID, user_id: ORG_ID }, ['org_id', 'user_id']],
    ['an unknown field', { org_id: ORG_ID, user_id: USER_ID, role: 'owner' }, ['role']],
  ])('refuses %s, naming the bad field', (_, payload, fields) => {
    expect(refusedFields(GET_MEMBER_ROLE_REQUEST, payload)).toEqual(fields);
  });

  it('words only fields it has', () => {
    expect(messagesForUnknownFields(GET_MEMBER_ROLE_REQUEST)).toEqual([]);
  });
});
