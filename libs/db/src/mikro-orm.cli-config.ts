import { loadConfig } from '@latchkey/config';

import { createOrmConfig } from './mikro-orm.config';

/** Entry for the `mikro-orm` CLI (package.json `mikro-orm.configPaths`); it migrates, so it needs a session connection. */
export default createOrmConfig({ databaseUrl: loadConfig().DATABASE_DIRECT_URL });
