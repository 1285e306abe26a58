-- The approved template a message goes out as, on the platforms that send nothing else
-- (Tencent Cloud, Aliyun): its id and its parameters as sent, an array of
-- {"name", "value"} in placeholder order. Both null for a message sent as free text. The
-- body still holds exactly what the customer reads, signature included.
ALTER TABLE messages
    ADD COLUMN template_id     text,
    ADD COLUMN template_params jsonb,
    ADD CONSTRAINT messages_template_whole CHECK ((template_id IS NULL) = (template_params IS NULL)),
    ADD CONSTRAINT messages_template_params_array
        CHECK (template_params IS NULL OR jsonb_typeof(template_params) = 'array');
