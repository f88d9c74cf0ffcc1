import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Equals,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsStop, OnlyNoOp, isEmptyObject } from './openai-validators.js';

const finite = { allowNaN: false, allowInfinity: false };

export class StreamOptionsDto {
  @ApiPropertyOptional({
    description: 'Adds a last chunk with `choices: []` and `usage` (other chunks: `usage: null`).',
  })
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;
}

/**
 * What /v1/chat/completions and /v1/completions share: the model, the sampling fields, streaming. Null counts as
 * absent, as OpenAI reads it. Fields the OpenAI API has and Sluice does not serve are refused by name in the
 * subclasses; any other unknown field is refused by the validation pipe.
 */
export class OpenAiSamplingDto {
  @ApiProperty({ example: 'qwen2', description: 'A model id or alias from GET /v1/models.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  model!: string;

  @ApiPropertyOptional({
    minimum: 1,
    description: "Tokens to generate; at most the model's max_new_tokens ceiling. Default: its default_max_new_tokens.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 2, description: '0 decodes greedily. Default: 1.' })
  @IsOptional()
  @IsNumber(finite)
  @Min(0)
  @Max(2)
  temperature?: number | null;

  @ApiPropertyOptional({ exclusiveMinimum: true, minimum: 0, maximum: 1, description: '1 (the default) is off.' })
  @IsOptional()
  @IsNumber(finite)
  @Min(Number.MIN_VALUE, { message: 'top_p must be greater than 0' })
  @Max(1)
  top_p?: number | null;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }],
    description: 'Up to 4 sequences that end the generation (not included in the text).',
  })
  @IsOptional()
  @IsStop()
  stop?: string | string[] | null;

  @ApiPropertyOptional({ minimum: 0, description: 'Sampling seed: the same seed gives the same text.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  seed?: number | null;

  @ApiPropertyOptional({ minimum: -2, maximum: 2 })
  @IsOptional()
  @IsNumber(finite)
  @Min(-2)
  @Max(2)
  presence_penalty?: number | null;

  @ApiPropertyOptional({ minimum: -2, maximum: 2 })
  @IsOptional()
  @IsNumber(finite)
  @Min(-2)
  @Max(2)
  frequency_penalty?: number | null;

  @ApiPropertyOptional({ enum: [1], description: 'Only 1: one choice per request.' })
  @IsOptional()
  @Equals(1, { message: 'n must be 1: Sluice generates one choice per request (send n requests instead)' })
  n?: number | null;

  @ApiPropertyOptional({ description: 'Accepted and unused.' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string | null;

  @ApiPropertyOptional({ default: false, description: 'Answer with server-sent events, ending with `data: [DONE]`.' })
  @IsOptional()
  @IsBoolean()
  stream?: boolean | null;

  @ApiPropertyOptional({ type: StreamOptionsDto, description: 'Only with `stream: true`.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Only `{}` (no bias); any bias is refused.',
  })
  @IsOptional()
  @OnlyNoOp(isEmptyObject, 'Sluice does not bias tokens (send {} or leave it out)')
  logit_bias?: Record<string, number> | null;
}
