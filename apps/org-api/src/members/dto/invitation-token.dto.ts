import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class InvitationTokenDto {
  @ApiProperty({ description: 'The token from the invitation email.' })
  @IsString()
  @Length(1, 200)
  token!: string;
}
