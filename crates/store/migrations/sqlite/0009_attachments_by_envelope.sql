-- 9: delivery asks whether each outbox envelope lists attachments (to push
-- them first) without parsing the envelope: attachment references by envelope.
CREATE INDEX envelope_attachments_by_envelope ON envelope_attachments (envelope_hash);
