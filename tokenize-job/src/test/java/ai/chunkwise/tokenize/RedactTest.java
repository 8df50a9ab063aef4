package ai.chunkwise.tokenize;

import ai.chunkwise.tokenize.config.TokenizeSettings;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** A secret pasted into a path never reaches the manifest's recorded configuration (Redact itself: pipeline). */
class RedactTest {
    @Test
    void theRecordedConfigurationHoldsNoSecret() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("input", "s3a://AKIAXYZ:s3cr3t@bucket/in");
        o.put("output", "s3a://AKIAXYZ:s3cr3t@bucket/out");
        o.put("tokenizer", "hf:s3a://AKIAXYZ:s3cr3t@bucket/tokenizer.json");
        String recorded = TokenizeSettings.load(o, null).toConfigMap().toString();
        assertFalse(recorded.contains("s3cr3t") || recorded.contains("AKIAXYZ"), recorded);
    }
}
