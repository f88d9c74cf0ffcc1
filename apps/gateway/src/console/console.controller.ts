import { Controller, Get, Header, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../auth/caller.js';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { CONSOLE_CSP, consoleAsset, type ConsoleAssetRoute } from './console-assets.js';
import { ConsoleStateDto } from './console-state.dto.js';
import { ConsoleStateService } from './console-state.service.js';

@ApiTags('operations')
@Controller('console')
export class ConsoleController {
  constructor(@Inject(ConsoleStateService) private readonly consoleState: ConsoleStateService) {}

  @Get()
  @ApiOperation({
    summary:
      'The admin console: a page that polls GET /console/state. The page is open; its data needs the admin scope (it asks for a key).',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page (HTML; its script and style sheet are /console/console.js and .css).' })
  page(@Res() reply: FastifyReply): Promise<void> {
    return send(reply, '/console');
  }

  @Get('console.js')
  @ApiExcludeEndpoint()
  script(@Res() reply: FastifyReply): Promise<void> {
    return send(reply, '/console/console.js');
  }

  @Get('console.css')
  @ApiExcludeEndpoint()
  styles(@Res() reply: FastifyReply): Promise<void> {
    return send(reply, '/console/console.css');
  }

  @Get('state')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary:
      "What the console shows, for scripts too: GET /models's admin view of every model and GPU, each model's last minute (requests/s, errors by type, p50/p99 latency and time to first token) and recent state changes.",
  })
  @ApiOkResponse({ type: ConsoleStateDto })
  @ApiErrorResponses({
    401: 'No API key, or not a valid one (`unauthorized`), where the gateway has keys.',
    403: 'The key has no admin scope (`forbidden`).',
    500: "The gateway's own fault (`internal`).",
  })
  state(@Req() request: FastifyRequest): Promise<ConsoleStateDto> {
    return this.consoleState.state(callerOf(request));
  }
}

async function send(reply: FastifyReply, route: ConsoleAssetRoute): Promise<void> {
  const { body, contentType } = consoleAsset(route);
  await reply
    .headers({
      'content-type': contentType,
      'cache-control': 'no-cache',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
    })
    .send(body);
}
