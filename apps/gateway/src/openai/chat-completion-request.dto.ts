import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { OpenAiResponseFormat, OpenAiRole, OpenAiTextPart } from '#backends';
import { RefusesFields } from '../http/refused-fields.js';
import { OpenAiSamplingDto } from './openai-sampling.dto.js';
import { IsMessageContent, IsResponseFormat, IsWithinPromptLength, OnlyNoOp, Refused } from './openai-validators.js';

const ROLES: readonly OpenAiRole[] = ['system', 'user', 'assistant'];
const NO_TOOLS = 'Sluice serves text generation without tools or function calling';

export class ChatMessageDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, {
    message: 'role must be one of system, user, assistant (tool, function and developer messages are not supported)',
  })
  role!: OpenAiRole;

  @ApiProperty({
    oneOf: [
      { type: 'string' },
      {
        type: 'array',
        items: { type: 'object', properties: { type: { enum: ['text'] }, text: { type: 'string' } } },
      },
    ],
    description: 'A string, or text parts (joined without separator).',
  })
  @IsMessageContent()
  content!: string | OpenAiTextPart[];

  @ApiPropertyOptional({ description: 'Accepted and unused.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;

  @IsOptional()
  @Refused(NO_TOOLS)
  tool_calls?: unknown;

  @IsOptional()
  @Refused(NO_TOOLS)
  function_call?: unknown;

  @IsOptional()
  @Refused(NO_TOOLS)
  tool_call_id?: unknown;
}

/** The body of POST /v1/chat/completions. */
@RefusesFields({
  tools: NO_TOOLS,
  functions: NO_TOOLS,
  function_call: NO_TOOLS,
  audio: 'Sluice answers text only',
  prediction: 'Sluice does not use predicted outputs',
  web_search_options: 'Sluice does not search the web',
  reasoning_effort: 'the models Sluice serves have no reasoning effort setting',
  service_tier: 'Sluice has one service tier',
})
export class ChatCompletionRequestDto extends OpenAiSamplingDto {
  @ApiProperty({ type: [ChatMessageDto], description: 'The conversation; the model applies its chat template.' })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(1000)
  @IsWithinPromptLength()
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @ApiPropertyOptional({
    minimum: 1,
    description: "OpenAI's newer name for max_tokens; the two must agree if both are sent.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_completion_tokens?: number | null;

  @ApiPropertyOptional({ description: "Return each generated token's logprob." })
  @IsOptional()
  @IsBoolean()
  logprobs?: boolean | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 20, description: 'Alternatives per token; needs `logprobs: true`.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  top_logprobs?: number | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      '`{"type": "text"}`, `{"type": "json_object"}` (JSON mode) or `{"type": "json_schema", "json_schema": {"name", "schema"}}`.',
  })
  @IsOptional()
  @IsResponseFormat()
  response_format?: OpenAiResponseFormat | null;

  @ApiPropertyOptional({ enum: [false], description: 'Accepted when false: Sluice stores nothing.' })
  @IsOptional()
  @Equals(false, { message: 'store is not supported: Sluice stores no completions (send false or leave it out)' })
  store?: boolean | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Accepted and unused.' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, string> | null;

  @ApiPropertyOptional({ description: 'Accepted and unused (tools are not served).' })
  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean | null;

  @ApiPropertyOptional({ enum: ['none'], description: 'Only "none".' })
  @IsOptional()
  @OnlyNoOp((value) => value === 'none', `${NO_TOOLS} (only "none" is accepted)`)
  tool_choice?: 'none' | null;

  @ApiPropertyOptional({ type: [String], description: 'Only `["text"]`.' })
  @IsOptional()
  @OnlyNoOp(
    (value) => Array.isArray(value) && value.length === 1 && value[0] === 'text',
    'Sluice answers text only (send ["text"] or leave it out)',
  )
  modalities?: string[] | null;
}
