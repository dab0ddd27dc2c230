export { OutboxModule } from './outbox.module';
export { NewDomainEvent, OutboxService } from './outbox.service';
