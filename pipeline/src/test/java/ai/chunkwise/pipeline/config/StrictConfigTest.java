package ai.chunkwise.pipeline.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StrictConfigTest {

    private static final Set<String> KNOWN = Set.of("input.path", "input.format", "tokenizer.spec", "packing.policy",
            "packing.chunk_size", "spark.conf");

    @Test
    void acceptsKnownKeysAndFreeFormSections() {
        Config c = ConfigFactory.parseString("""
                input { path = "/data", format = jsonl }
                tokenizer.spec = "tiktoken:cl100k_base"
                packing { policy = bfd, chunk_size = 1024 }
                spark.conf { "spark.executor.memory" = 4g, "spark.sql.shuffle.partitions" = 8 }
                """);
        assertDoesNotThrow(() -> StrictConfig.rejectUnknownKeys(c, KNOWN, "job.conf"));
    }

    @Test
    void misspelledKeyIsNamedWithSourceLineAndSuggestion() {
        Config c = ConfigFactory.parseString("""
                input.path = "/data"
                packing {
                  polcy = bfd
                }
                """, com.typesafe.config.ConfigParseOptions.defaults().setOriginDescription("conf/job.conf"));
        UnknownConfigKeyException e = assertThrows(UnknownConfigKeyException.class,
                () -> StrictConfig.rejectUnknownKeys(c, KNOWN, "conf/job.conf"));
        assertTrue(e.getMessage().contains("'packing.polcy'"), e.getMessage());
        assertTrue(e.getMessage().contains("conf/job.conf"), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'packing.policy'"), e.getMessage());
        assertEquals(List.of("packing.polcy"), e.unknownKeys());
        assertInstanceOf(ConfigException.class, e);
    }

    @Test
    void everyUnknownKeyIsReportedAndFarOffKeysGetNoSuggestion() {
        Config c = ConfigFactory.parseString("tokenizer.spek = x\ncompletely_unrelated_setting = 1\n");
        UnknownConfigKeyException e = assertThrows(UnknownConfigKeyException.class,
                () -> StrictConfig.rejectUnknownKeys(c, KNOWN, "command line"));
        assertEquals(List.of("completely_unrelated_setting", "tokenizer.spek"), e.unknownKeys());
        assertTrue(e.getMessage().contains("did you mean 'tokenizer.spec'"), e.getMessage());
        assertTrue(e.getMessage().contains("'completely_unrelated_setting' in command line"), e.getMessage());
        assertTrue(!e.getMessage().contains("'completely_unrelated_setting' in command line: did you mean"), e.getMessage());
    }

    @Test
    void aKnownLeafDoesNotAdmitChildren() {
        Config c = ConfigFactory.parseString("packing.chunk_size.extra = 1");
        assertThrows(UnknownConfigKeyException.class, () -> StrictConfig.rejectUnknownKeys(c, Set.of("packing.chunk_size.x"), "t"));
        Config sibling = ConfigFactory.parseString("spark.confx = 1");
        assertThrows(UnknownConfigKeyException.class, () -> StrictConfig.rejectUnknownKeys(sibling, KNOWN, "t"));
    }

    @Test
    void editDistanceOnHandCases() {
        assertEquals(0, StrictConfig.editDistance("abc", "abc"));
        assertEquals(3, StrictConfig.editDistance("kitten", "sitting"));
        assertEquals(1, StrictConfig.editDistance("policy", "polcy"));
        assertEquals(2, StrictConfig.editDistance("ab", "ba"));
        assertEquals(4, StrictConfig.editDistance("", "spec"));
        assertNull(StrictConfig.closest("zzzzzzzzzzzz", KNOWN));
    }
}
