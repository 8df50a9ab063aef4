package ai.chunkwise.pipeline.storage;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A secret pasted into a location's user-info is replaced before the location is logged or recorded. */
class RedactTest {
    @Test
    void userInfoInUrisIsReplaced() {
        assertEquals("s3a://***@bucket/corpus/*.jsonl", Redact.uri("s3a://AKIAXYZ:s3cr3t@bucket/corpus/*.jsonl"));
        assertEquals("hdfs://namenode:8020/x", Redact.uri("hdfs://namenode:8020/x"));
        assertEquals("/local/path", Redact.uri("/local/path"));
    }
}
