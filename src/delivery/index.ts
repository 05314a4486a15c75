/** Delivery of new findings as OCSF Detection Findings to webhooks, SNS and EventBridge (see deliver.ts, outbox.ts). */
export { deliverySchema, parseDeliveryConfig, readDeliveryConfig, type DeliveryConfig, type Destination } from './config';
export {
  backoffMs,
  deliverOutbox,
  prepareOutbox,
  queueNewFindings,
  readFindings,
  SYSTEM_CLOCK,
  type AttemptEvent,
  type DeliveryClock,
  type DeliverySummary,
  type QueueSummary,
} from './deliver';
export { toOcsf, type OcsfDetectionFinding } from './ocsf';
export { DestinationOutbox, type OutboxEntry } from './outbox';
export { IDEMPOTENCY_HEADER, SIGNATURE_HEADER } from './senders';
