import { loadConfig } from '@latchkey/config';

import { createOrmConfig } from './mikro-orm.config';

/** Entry for the `mikro-orm` CLI (package.json `mikro-orm.configPaths`). */
export default createOrmConfig(loadConfig().DATABASE_URL);
