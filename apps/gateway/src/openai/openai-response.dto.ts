import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The OpenAI answers as the OpenAPI document describes them (the wire types are libs/backends' openai-protocol.ts). */

export class OpenAiModelDto {
  @ApiProperty({ description: 'A model id or alias; each alias is listed as its own model.' })
  id!: string;
  @ApiProperty({ enum: ['model'] })
  object!: 'model';
  @ApiProperty({ description: 'Unix seconds: when this gateway started serving it.' })
  created!: number;
  @ApiProperty({ example: 'sluice' })
  owned_by!: string;
}

export class OpenAiModelListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiProperty({ type: [OpenAiModelDto] })
  data!: OpenAiModelDto[];
}

export class OpenAiUsageDto {
  @ApiProperty()
  prompt_tokens!: number;
  @ApiProperty()
  completion_tokens!: number;
  @ApiProperty()
  total_tokens!: number;
}

class ChatMessageOutDto {
  @ApiProperty({ enum: ['assistant'] })
  role!: 'assistant';
  @ApiProperty()
  content!: string;
  @ApiProperty({ nullable: true, type: 'string' })
  refusal!: null;
}

class ChatChoiceDto {
  @ApiProperty()
  index!: number;
  @ApiProperty({ type: ChatMessageOutDto })
  message!: ChatMessageOutDto;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: '`{content: [...]}` with `logprobs: true`.',
  })
  logprobs!: object | null;
  @ApiProperty({ enum: ['stop', 'length'] })
  finish_reason!: string;
}

export class ChatCompletionDto {
  @ApiProperty({ example: 'chatcmpl-3f1c9b0e2a7d4c5e8f6a1b2c' })
  id!: string;
  @ApiProperty({ enum: ['chat.completion'] })
  object!: 'chat.completion';
  @ApiProperty({ description: 'Unix seconds.' })
  created!: number;
  @ApiProperty({ description: 'The canonical model id.' })
  model!: string;
  @ApiProperty()
  system_fingerprint!: string;
  @ApiProperty({ type: [ChatChoiceDto] })
  choices!: ChatChoiceDto[];
  @ApiProperty({ type: OpenAiUsageDto })
  usage!: OpenAiUsageDto;
}

class CompletionChoiceDto {
  @ApiProperty()
  index!: number;
  @ApiProperty()
  text!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Always null.' })
  logprobs!: null;
  @ApiProperty({ enum: ['stop', 'length'] })
  finish_reason!: string;
}

export class CompletionDto {
  @ApiProperty({ example: 'cmpl-3f1c9b0e2a7d4c5e8f6a1b2c' })
  id!: string;
  @ApiProperty({ enum: ['text_completion'] })
  object!: 'text_completion';
  @ApiProperty({ description: 'Unix seconds.' })
  created!: number;
  @ApiProperty({ description: 'The canonical model id.' })
  model!: string;
  @ApiProperty()
  system_fingerprint!: string;
  @ApiProperty({ type: [CompletionChoiceDto] })
  choices!: CompletionChoiceDto[];
  @ApiPropertyOptional({ type: OpenAiUsageDto })
  usage!: OpenAiUsageDto;
}

class OpenAiErrorDto {
  @ApiProperty({ description: 'What went wrong and what to do about it.' })
  message!: string;
  @ApiProperty({ enum: ['invalid_request_error', 'rate_limit_error', 'server_error'] })
  type!: string;
  @ApiProperty({ type: 'string', nullable: true, description: 'The request field at fault, where one is.' })
  param!: string | null;
  @ApiProperty({
    description: "The gateway's error type (API.md, Errors): validation, model_not_found, overloaded, ...",
  })
  code!: string;
}

/** OpenAI's error body, on every OpenAI route and every unknown /v1/* path. */
export class OpenAiErrorResponseDto {
  @ApiProperty({ type: OpenAiErrorDto })
  error!: OpenAiErrorDto;
}
