import { AppConfigValues } from './load-config';

/**
 * The validated configuration, injected wherever a setting is needed.
 * `get` is typed by key, so a typo is a compile error rather than an undefined.
 */
export class AppConfig {
  constructor(private readonly values: AppConfigValues) {}

  get<K extends keyof AppConfigValues>(key: K): AppConfigValues[K] {
    return this.values[key];
  }

  get isProduction(): boolean {
    return this.values.NODE_ENV === 'production';
  }
}
