import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { DestinationStream } from 'pino';

import { AppConfig } from '@latchkey/config';
import { HOT_ROUTE_PATHS, OPERATIONAL_ROUTE_PATHS } from '@latchkey/contracts';

/**
 * Paths that may carry a secret. pino replaces them before a line is written,
 * so a key, token or password never reaches the logs.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-internal-token"]',
  'req.headers["x-signature"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.key',
];

/** Structured JSON logs (pino) with the request id on every line of a request. */
@Module({})
export class LoggerModule {
  /** `destination` defaults to stdout; tests pass a stream to read what was logged. */
  static forRoot(destination?: DestinationStream): DynamicModule {
    return {
      module: LoggerModule,
      imports: [
        PinoLoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => {
            const options = {
              level: config.get('LOG_LEVEL'),
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              // The query string may hold a key someone pasted into a URL: log the path only.
              serializers: {
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: req.url.split('?')[0],
                }),
              },
              customProps: () => ({ service: 'latchkey', targets: config.get('targets').join(',') }),
              quietReqLogger: true,
            };
            return {
              pinoHttp: destination ? [options, destination] : options,
              // Every key check already becomes a usage event and a request-log row; a log
              // line per check would cost most of the hot path's throughput for nothing.
              exclude: [...HOT_ROUTE_PATHS, ...OPERATIONAL_ROUTE_PATHS].map((path) => ({ path, method: RequestMethod.ALL })),
            };
          },
        }),
      ],
      exports: [PinoLoggerModule],
    };
  }
}
