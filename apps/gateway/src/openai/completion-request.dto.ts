import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { OpenAiSamplingDto } from './openai-sampling.dto.js';
import { RefusesFields } from '../http/refused-fields.js';
import { IsPrompt, OnlyNoOp } from './openai-validators.js';

/** The body of POST /v1/completions. */
@RefusesFields({
  logprobs: "Sluice's completions carry no logprobs (use /v1/chat/completions with logprobs: true)",
  suffix: 'Sluice does not insert text (no suffix)',
})
export class CompletionRequestDto extends OpenAiSamplingDto {
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 }],
    example: 'The capital of France is',
    description: 'The text to continue: a string, or an array of exactly one.',
  })
  @IsPrompt()
  prompt!: string | [string];

  @ApiPropertyOptional({ default: false, description: 'Put the prompt before the completion in `text`.' })
  @IsOptional()
  @IsBoolean()
  echo?: boolean | null;

  @ApiPropertyOptional({ enum: [1], description: 'Only 1.' })
  @IsOptional()
  @OnlyNoOp((value) => value === 1, 'Sluice generates one candidate per request (send 1 or leave it out)')
  best_of?: number | null;
}
