import { CreateRequestContext, MikroORM } from '@mikro-orm/core';
import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';

import {
  GET_MEMBER_ROLE_REQUEST,
  GET_ORGANIZATION_REQUEST,
  GetMemberRoleRequest,
  GetOrganizationRequest,
  MemberRoleReply,
  OrganizationReply,
  OrgsPattern,
} from '@latchkey/contracts';
import { DEFAULT_ORGANIZATION_SETTINGS } from '@latchkey/db';
import { MessagePayload } from '@latchkey/platform';

import { OrganizationsService } from '../organizations/organizations.service';

/**
 * org-api over the Redis transport, for internal services. Each payload is checked
 * against its contract's compiled schema, and errors leave through the
 * AllExceptionsFilter as an RpcErrorReply.
 */
@Controller()
export class OrgsRpcController {
  constructor(
    private readonly organizations: OrganizationsService,
    // Read by @CreateRequestContext: a message has no HTTP request, so it gets its own EntityManager context.
    private readonly orm: MikroORM,
  ) {}

  // @CreateRequestContext must sit closest to the method: @MessagePattern marks the function it is given.
  @MessagePattern(OrgsPattern.GetOrganization)
  @CreateRequestContext()
  async getOrganization(@MessagePayload(GET_ORGANIZATION_REQUEST) request: GetOrganizationRequest): Promise<OrganizationReply> {
    const org = await this.organizations.findById(request.org_id);
    return {
      id: org.id,
      name: org.name,
      live_access: org.liveAccess,
      settings: { ...DEFAULT_ORGANIZATION_SETTINGS, ...org.settings },
      created_at: org.createdAt.toISOString(),
    };
  }

  @MessagePattern(OrgsPattern.GetMemberRole)
  @CreateRequestContext()
  async getMemberRole(@MessagePayload(GET_MEMBER_ROLE_REQUEST) request: GetMemberRoleRequest): Promise<MemberRoleReply> {
    const role = await this.organizations.findMemberRole(request.org_id, request.user_id);
    return { org_id: request.org_id, user_id: request.user_id, role };
  }
}
