export { AppConfig } from './app-config';
export { ConfigModule } from './config.module';
export { LOG_LEVELS, type LogLevel } from './env.schema';
export { AppConfigValues, ConfigError, loadConfig, parseDurations } from './load-config';
export { ALL_TARGETS, parseTargets, ServiceTarget } from './service-target';
