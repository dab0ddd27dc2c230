import { ApiProperty } from '@nestjs/swagger';

import { ActorType, AuditLog } from '@latchkey/db';

export class AuditActorResponseDto {
  @ApiProperty({ enum: Object.values(ActorType) })
  type!: ActorType;

  @ApiProperty({ nullable: true, type: String, description: 'null for the platform operator and the system.' })
  id!: string | null;
}

export class AuditTargetResponseDto {
  @ApiProperty({ example: 'org' })
  type!: string;

  @ApiProperty({ example: 'org_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;
}

export class AuditLogResponseDto {
  @ApiProperty({ example: 'aud_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  id!: string;

  @ApiProperty()
  org_id!: string;

  @ApiProperty({ type: AuditActorResponseDto })
  actor!: AuditActorResponseDto;

  @ApiProperty({ example: 'org.updated' })
  action!: string;

  @ApiProperty({ type: AuditTargetResponseDto, nullable: true })
  target!: AuditTargetResponseDto | null;

  @ApiProperty({ nullable: true, type: String })
  ip!: string | null;

  @ApiProperty({ nullable: true, type: String })
  user_agent!: string | null;

  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'State before the change, secrets removed.' })
  before!: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'State after the change, secrets removed.' })
  after!: Record<string, unknown> | null;

  @ApiProperty()
  created_at!: string;

  static from(row: AuditLog): AuditLogResponseDto {
    return {
      id: row.id,
      org_id: row.orgId,
      actor: { type: row.actorType, id: row.actorId },
      action: row.action,
      target: row.targetType !== null && row.targetId !== null ? { type: row.targetType, id: row.targetId } : null,
      ip: row.ip,
      user_agent: row.userAgent,
      before: row.before,
      after: row.after,
      created_at: row.createdAt.toISOString(),
    };
  }
}
