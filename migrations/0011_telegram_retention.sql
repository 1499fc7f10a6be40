-- Telegram retention: handled updates, finished messages and old command windows are deleted
-- after telegram.retention_days, in batches; these indexes find the old rows without a scan.
CREATE INDEX telegram_updates_processed ON telegram_updates (processed_at)
    WHERE processed_at IS NOT NULL;
CREATE INDEX telegram_outbox_finished ON telegram_outbox (created_at)
    WHERE status <> 'pending';
