import { ApiProperty } from '@nestjs/swagger';

export class ErrorDetailDto {
  @ApiProperty({ required: false, example: 'email' })
  field?: string;

  @ApiProperty({ example: 'email must be an email' })
  message!: string;
}

export class ErrorBodyDto {
  @ApiProperty({ example: 'VALIDATION_FAILED' })
  code!: string;

  @ApiProperty()
  message!: string;

  @ApiProperty({ type: [ErrorDetailDto] })
  details!: ErrorDetailDto[];

  @ApiProperty({ example: 'req_01JD2Z6K3S9Q4W8E7R5T1Y0U2I' })
  request_id!: string;
}

export class ErrorResponseDto {
  @ApiProperty({ enum: [false] })
  success!: false;

  @ApiProperty({ type: ErrorBodyDto })
  error!: ErrorBodyDto;
}
