import { ApiProperty } from '@nestjs/swagger';
import { GATEWAY_ERROR_TYPES, type GatewayErrorType } from '#backends';

/** The body of every error answer, and of the error event that ends a failed stream. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'What went wrong and what to do about it.' })
  error!: string;

  @ApiProperty({ enum: GATEWAY_ERROR_TYPES, description: 'The error taxonomy (API.md, Errors).' })
  error_type!: GatewayErrorType;

  @ApiProperty({ description: 'Also the x-request-id header.' })
  request_id!: string;
}
