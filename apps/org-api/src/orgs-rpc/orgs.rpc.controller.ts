import { CreateRequestContext, MikroORM } from '@mikro-orm/core';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';

import { GetMemberRoleRequest, GetOrganizationRequest, MemberRoleReply, OrganizationReply, OrgsPattern } from '@latchkey/contracts';
import { DEFAULT_ORGANIZATION_SETTINGS } from '@latchkey/db';

import { OrganizationsService } from '../organizations/organizations.service';

/**
 * org-api over the Redis transport, for internal services. Payloads are checked by
 * the global ValidationPipe (the microservice is connected with inheritAppConfig),
 * and errors leave through the AllExceptionsFilter as `{code, message}`.
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
  async getOrganization(@Payload() request: GetOrganizationRequest): Promise<OrganizationReply> {
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
  async getMemberRole(@Payload() request: GetMemberRoleRequest): Promise<MemberRoleReply> {
    const role = await this.organizations.findMemberRole(request.org_id, request.user_id);
    return { org_id: request.org_id, user_id: request.user_id, role };
  }
}
