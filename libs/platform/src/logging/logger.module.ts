import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { DestinationStream } from 'pino';

import { AppConfig } from '@latchkey/config';
import { OPERATIONAL_ROUTE_PATHS } from '@latchkey/contracts';

import { errorMessageHook, redactForLog, redactLogObject, serializeErrorForLog } from './log-redaction';

/** The keys pino hands to a serializer rather than to `formatters.log`. */
const SERIALIZED_KEYS: ReadonlySet<string> = new Set(['req', 'res', 'err']);

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
              // A secret (password, token, key, hash, cookie, …) is replaced at any depth of a
              // logged object, not only at fixed paths: a request body or an error's config
              // nests it anywhere. Database errors are logged without their values.
              formatters: { log: redactLogObject(SERIALIZED_KEYS) },
              hooks: { logMethod: errorMessageHook },
              serializers: {
                // The query string may hold a key someone pasted into a URL: log the path only.
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: req.url.split('?')[0],
                }),
                // Response headers carry set-cookie.
                res: redactForLog,
                err: serializeErrorForLog,
              },
              customProps: () => ({ service: 'latchkey', targets: config.get('targets').join(',') }),
              quietReqLogger: true,
            };
            return {
              pinoHttp: destination ? [options, destination] : options,
              // Probes and scrapes would be most of the log and say nothing. The key checks
              // never reach pino-http (auth-check's front door answers them before Nest):
              // each already becomes a usage event and a request-log row.
              exclude: OPERATIONAL_ROUTE_PATHS.map((path) => ({ path, method: RequestMethod.ALL })),
            };
          },
        }),
      ],
      exports: [PinoLoggerModule],
    };
  }
}
