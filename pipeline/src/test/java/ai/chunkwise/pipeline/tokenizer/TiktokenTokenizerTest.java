package ai.chunkwise.pipeline.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Known ids come from outside this code: tiktoken's own tests (tests/test_encoding.py: r50k/p50k/cl100k
 * "hello world", GPT-2 digit runs, cl100k newlines and emoji) and tiktoken 0.14 known-answer tables for
 * o200k_base and CJK/emoji text. Vocabulary sizes are tiktoken's n_vocab.
 */
class TiktokenTokenizerTest {

    private static int[] encode(String spec, String text) {
        try (TextTokenizer t = TextTokenizer.fromSpec(spec)) {
            return t.encode(text);
        }
    }

    @Test
    void helloWorldHasTheWellKnownIdsInEveryEncoding() {
        assertArrayEquals(new int[]{31373, 995}, encode("tiktoken:r50k_base", "hello world"));
        assertArrayEquals(new int[]{31373, 995}, encode("tiktoken:p50k_base", "hello world"));
        assertArrayEquals(new int[]{31373, 995}, encode("tiktoken:p50k_edit", "hello world"));
        assertArrayEquals(new int[]{15339, 1917}, encode("tiktoken:cl100k_base", "hello world"));
        assertArrayEquals(new int[]{24912, 2375}, encode("tiktoken:o200k_base", "hello world"));
    }

    @Test
    void moreKnownAnswers() {
        assertArrayEquals(new int[]{25645}, encode("tiktoken:r50k_base", "0000000000000000"));
        assertArrayEquals(new int[]{10535, 830}, encode("tiktoken:r50k_base", "000000000"));
        assertArrayEquals(new int[]{31213, 27907}, encode("tiktoken:cl100k_base", "today\n \n"));
        assertArrayEquals(new int[]{9468, 239, 235}, encode("tiktoken:cl100k_base", "👍"));
        assertArrayEquals(new int[]{57668, 53901, 3922, 3574, 244, 98220, 11410, 234, 235, 9468, 248, 222},
                encode("tiktoken:cl100k_base", "你好，世界 🌍🚀"));
        assertArrayEquals(new int[]{177519, 979, 28428, 130321, 235, 112927, 222},
                encode("tiktoken:o200k_base", "你好，世界 🌍🚀"));
    }

    @Test
    void p50kHasWhitespaceRunTokensThatR50kLacks() {
        try (TextTokenizer p50k = TextTokenizer.fromSpec("tiktoken:p50k_base");
             TextTokenizer r50k = TextTokenizer.fromSpec("tiktoken:r50k_base")) {
            assertEquals("  ", p50k.decode(new int[]{50257}));
            assertEquals(" ".repeat(25), p50k.decode(new int[]{50280}));
            assertThrows(IllegalArgumentException.class, () -> r50k.decode(new int[]{50257}));
        }
    }

    @Test
    void specialIdsAndVocabularySizesAreTiktokens() {
        record Expected(String spec, int vocab, int eos) {
        }
        for (Expected e : List.of(new Expected("tiktoken:r50k_base", 50257, 50256),
                new Expected("tiktoken:p50k_base", 50281, 50256), new Expected("tiktoken:p50k_edit", 50284, 50256),
                new Expected("tiktoken:cl100k_base", 100277, 100257), new Expected("tiktoken:o200k_base", 200019, 199999))) {
            try (TextTokenizer t = TextTokenizer.fromSpec(e.spec())) {
                TokenizerInfo info = t.info();
                assertEquals(e.spec(), info.name());
                assertEquals(e.vocab(), info.vocabSize(), e.spec());
                assertEquals(e.eos(), info.eosId(), e.spec());
                assertEquals(e.eos(), info.bosId(), e.spec() + ": BOS is <|endoftext|> by our documented choice");
                assertEquals(e.eos(), info.padId(), e.spec());
                assertEquals("<|endoftext|>", t.decode(new int[]{info.eosId()}));
                assertEquals(64, info.vocabHash().length());
            }
        }
    }

    @Test
    void specialTokenTextIsEncodedAsOrdinaryText() {
        try (TextTokenizer t = TextTokenizer.fromSpec("tiktoken:cl100k_base")) {
            int[] ids = t.encode("a<|endoftext|>b");
            assertTrue(ids.length > 3);
            for (int id : ids) {
                assertFalse(id == 100257, "ordinary text must never produce the EOS id");
            }
            assertEquals("a<|endoftext|>b", t.decode(ids));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiktoken:r50k_base", "tiktoken:p50k_base", "tiktoken:p50k_edit", "tiktoken:cl100k_base",
            "tiktoken:o200k_base"})
    void roundTripsArbitraryText(String spec) {
        List<String> texts = List.of("", "hello", " hello  ", "请考试我的软件！12345", "Ünïcödé — ümlauts ∑ 🤖🚀\n\ttabs\r\n",
                "def f(x):\n        return x ** 2  # comment\n", "a".repeat(5000));
        try (TextTokenizer t = TextTokenizer.fromSpec(spec)) {
            for (String text : texts) {
                assertEquals(text, t.decode(t.encode(text)), spec + " on " + text.substring(0, Math.min(20, text.length())));
            }
        }
    }

    @Test
    void vocabHashFollowsTheDocumentedRecipeOverTheShippedRankFile() throws Exception {
        // Recompute the hash independently of JTokkit's decoder: from the rank file JTokkit ships
        // (base64 token, rank per line) plus <|endoftext|> = 50256, hashed as name, then per id (id, length, bytes).
        List<byte[]> tokens = new ArrayList<>();
        try (InputStream in = TiktokenTokenizerTest.class.getClassLoader()
                .getResourceAsStream("com/knuddels/jtokkit/r50k_base.tiktoken")) {
            assertNotNull(in);
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(" ");
                assertEquals(tokens.size(), Integer.parseInt(parts[1]), "r50k ranks are dense");
                tokens.add(Base64.getDecoder().decode(parts[0]));
            }
        }
        tokens.add("<|endoftext|>".getBytes(StandardCharsets.UTF_8));
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        digest.update("r50k_base".getBytes(StandardCharsets.UTF_8));
        for (int id = 0; id < tokens.size(); id++) {
            digest.update(ByteBuffer.allocate(8).putInt(id).putInt(tokens.get(id).length).array());
            digest.update(tokens.get(id));
        }
        try (TextTokenizer t = TextTokenizer.fromSpec("tiktoken:r50k_base")) {
            assertEquals(50257, tokens.size());
            assertEquals(HexFormat.of().formatHex(digest.digest()), t.info().vocabHash());
        }
    }

    @Test
    void vocabHashesDifferBetweenEncodingsAndAreStable() {
        Set<String> hashes = Stream.of("r50k_base", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base")
                .map(n -> {
                    try (TextTokenizer t = TextTokenizer.fromSpec("tiktoken:" + n)) {
                        return t.info().vocabHash();
                    }
                }).collect(Collectors.toSet());
        assertEquals(5, hashes.size());
        try (TextTokenizer a = TextTokenizer.fromSpec("tiktoken:cl100k_base");
             TextTokenizer b = TextTokenizer.fromSpec(" tiktoken:cl100k_base ")) {
            assertEquals(a.info(), b.info());
        }
    }

    @Test
    void unknownSpecsNameTheSpecAndTheValidForms() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec("tiktoken:gpt5"));
        assertTrue(e.getMessage().contains("gpt5") && e.getMessage().contains("cl100k_base"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec("sentencepiece:/x.model"));
        assertTrue(e.getMessage().contains("sentencepiece:/x.model") && e.getMessage().contains("hf:/path/to/tokenizer.json")
                && e.getMessage().contains("bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec(null));
        assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromSpec("hf:"));
    }
}
