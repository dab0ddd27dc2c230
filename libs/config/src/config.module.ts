import { DynamicModule, Global, Module } from '@nestjs/common';

import { AppConfig } from './app-config';
import { AppConfigValues } from './load-config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(values: AppConfigValues): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: new AppConfig(values) }],
      exports: [AppConfig],
    };
  }
}
