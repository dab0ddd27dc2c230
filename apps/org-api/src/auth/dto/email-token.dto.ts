import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class EmailTokenDto {
  @ApiProperty({ description: 'The token from the link in the email.' })
  @IsString()
  @Length(1, 200)
  token!: string;
}
