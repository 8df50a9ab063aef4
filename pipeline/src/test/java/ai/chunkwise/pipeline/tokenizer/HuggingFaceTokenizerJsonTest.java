package ai.chunkwise.pipeline.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-written tokenizer.json files (src/test/resources/tokenizers) run through DJL's Rust binding. */
class HuggingFaceTokenizerJsonTest {

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(HuggingFaceTokenizerJsonTest.class.getResource("/tokenizers/" + name).toURI());
    }

    @Test
    void encodesWithoutSpecialTokensAndWithoutTruncation() throws Exception {
        // the file's post-processor would wrap text in <s> ... </s> and its truncation would cut at 3 tokens
        Path file = resource("tiny-wordlevel.json");
        try (TextTokenizer t = TextTokenizer.fromSpec("hf:" + file)) {
            assertArrayEquals(new int[]{4, 5, 12, 6, 7, 8, 9, 6, 10, 11}, t.encode("Hello world, the cat sat on the mat."));
            assertArrayEquals(new int[]{4, 0, 5}, t.encode("hello dog world"));
            assertArrayEquals(new int[0], t.encode(""));
        }
    }

    @Test
    void decodesIdsBackToText() throws Exception {
        try (TextTokenizer t = TextTokenizer.fromSpec("hf:" + resource("tiny-wordlevel.json"))) {
            // a WordLevel model without a decoder joins tokens with single spaces
            assertEquals("the cat sat on the mat .", t.decode(t.encode("The cat sat on the mat.")));
            assertEquals("hello world", t.decode(new int[]{4, 5}));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{13}));
        }
    }

    @Test
    void infoComesFromTheFile() throws Exception {
        Path file = resource("tiny-wordlevel.json");
        try (TextTokenizer t = TextTokenizer.fromSpec("hf:" + file)) {
            TokenizerInfo info = t.info();
            assertEquals("hf:" + file, info.name());
            assertEquals(13, info.vocabSize());
            assertEquals(1, info.bosId());
            assertEquals(2, info.eosId());
            assertEquals(3, info.padId());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))),
                    info.vocabHash());
        }
    }

    @Test
    void llama3StyleNamesAndPadFallsBackToEos() throws Exception {
        try (TextTokenizer t = TextTokenizer.fromSpec("hf:" + resource("tiny-llama3-names.json"))) {
            TokenizerInfo info = t.info();
            assertEquals(8, info.vocabSize());
            assertEquals(6, info.bosId());
            assertEquals(7, info.eosId());
            assertEquals(7, info.padId());
            assertArrayEquals(new int[]{1, 2, 0, 5}, t.encode("a b z e"));
        }
    }

    @Test
    void noSpecialTokensMeansMinusOne() {
        String json = """
                {"version": "1.0", "added_tokens": [], "pre_tokenizer": {"type": "Whitespace"},
                 "model": {"type": "WordLevel", "vocab": {"?": 0, "x": 1, "y": 2}, "unk_token": "?"}}
                """;
        try (TextTokenizer t = HuggingFaceTokenizerJson.fromBytes("hf:inline", json.getBytes(StandardCharsets.UTF_8))) {
            assertEquals(new TokenizerInfo("hf:inline", 3, -1, -1, -1, t.info().vocabHash()), t.info());
            assertArrayEquals(new int[]{1, 2, 1}, t.encode("x y x"));
        }
    }

    @Test
    void unreadableOrInvalidFilesAreClearErrors(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec("hf:" + missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"model\": ");
        e = assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec("hf:" + broken));
        assertTrue(e.getMessage().contains(broken.toString()), e.getMessage());
        Path noModel = dir.resolve("no-model.json");
        Files.writeString(noModel, "{\"version\": \"1.0\"}");
        e = assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec("hf:" + noModel));
        assertTrue(e.getMessage().contains("model.vocab"), e.getMessage());
    }
}
