import {
  isReplyStreamKey,
  parseReply,
  parseRequest,
  randomId,
  replyFields,
  replySignedBy,
  replyStreamKey,
  requestFields,
  requestSigner,
  signReply,
  signRequest,
} from './wire';

const SECRET = 'a-service-secret-of-at-least-32-chars';
const OTHER = 'another-service-secret-of-32-chars-x';

function request() {
  return signRequest(
    {
      id: randomId(),
      pattern: 'keys.get',
      replyTo: replyStreamKey('lk', randomId()),
      deadline: 1_900_000_000_000,
      data: '{"key_id":"key_1"}',
    },
    { name: 'service', secret: SECRET },
  );
}

describe('the RPC wire', () => {
  it('reads back what it writes, and finds which of two rotating secrets signed it', () => {
    const sent = request();
    const read = parseRequest(requestFields(sent));

    expect(read).toEqual(sent);
    expect(requestSigner(read as typeof sent, [OTHER, SECRET])).toBe(SECRET);
    expect(requestSigner(read as typeof sent, [OTHER])).toBeUndefined();
  });

  it.each([
    ['the payload', { data: '{"key_id":"key_2"}' }],
    ['the pattern', { pattern: 'orgs.get' }],
    ['the deadline', { deadline: 1_900_000_060_000 }],
    ['the reply stream', { replyTo: replyStreamKey('lk', randomId()) }],
    ['the credential name', { credential: 'internal' as const }],
  ])('no longer verifies once %s is changed', (_, change) => {
    expect(requestSigner({ ...request(), ...change }, [SECRET])).toBeUndefined();
  });

  it.each([
    ['another wire version', ['v', '2']],
    ['a malformed id', ['id', 'x']],
    ['a pattern with a newline', ['p', 'keys.get\nforged']],
    ['a deadline that is not a number', ['dl', 'soon']],
    ['an unknown credential', ['k', 'root']],
  ])('refuses an entry with %s', (_, [field, value]) => {
    const fields = requestFields(request());
    fields[fields.indexOf(field) + 1] = value;

    expect(typeof parseRequest(fields)).toBe('string');
  });

  it('signs a reply over its id, outcome and data', () => {
    const reply = signReply({ id: randomId(), ok: true, data: '{"valid":true}' }, SECRET);

    expect(replySignedBy(parseReply(replyFields(reply))!, SECRET)).toBe(true);
    expect(replySignedBy({ ...reply, ok: false }, SECRET)).toBe(false);
    expect(replySignedBy({ ...reply, data: '{"valid":false}' }, SECRET)).toBe(false);
    expect(replySignedBy(reply, OTHER)).toBe(false);
  });

  it("names Latchkey's own callers' reply streams apart from operators', so an ACL can keep them apart", () => {
    const id = randomId();
    expect(replyStreamKey('lk', id)).toBe(`lk:rpc:{replies-${id}}`);
    expect(replyStreamKey('lk', id, true)).toBe(`lk:rpc:{service-replies-${id}}`);
  });

  it("names as a reply stream only this deployment's reply keys, never another key a server could be made to write", () => {
    expect(isReplyStreamKey('lk', replyStreamKey('lk', randomId()))).toBe(true);
    expect(isReplyStreamKey('lk', replyStreamKey('lk', randomId(), true))).toBe(true);
    expect(isReplyStreamKey('lk', replyStreamKey('other', randomId()))).toBe(false);
    expect(isReplyStreamKey('lk', 'lk:bull:usage:wait')).toBe(false);
    expect(isReplyStreamKey('lk', 'lk:rpc:{replies-}')).toBe(false);
    expect(isReplyStreamKey('lk', `lk:rpc:{replies-${randomId()}}:x}`)).toBe(false);
  });
});
