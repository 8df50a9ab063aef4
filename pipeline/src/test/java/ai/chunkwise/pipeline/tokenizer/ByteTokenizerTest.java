package ai.chunkwise.pipeline.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteTokenizerTest {

    @Test
    void idsAreUtf8Bytes() {
        try (TextTokenizer t = TextTokenizer.fromSpec("bytes")) {
            assertArrayEquals(new int[]{104, 105}, t.encode("hi"));
            // é = C3 A9, 🚀 = F0 9F 9A 80
            assertArrayEquals(new int[]{0xC3, 0xA9, 0xF0, 0x9F, 0x9A, 0x80}, t.encode("é🚀"));
            assertArrayEquals(new int[0], t.encode(""));
        }
    }

    @Test
    void decodeSkipsSpecialsAndRoundTrips() {
        try (TextTokenizer t = TextTokenizer.fromSpec("bytes")) {
            assertEquals("hi", t.decode(new int[]{256, 104, 105, 257, 258, 258}));
            String text = "Grüße, 世界! 🤖\n";
            assertEquals(text, t.decode(t.encode(text)));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{259}));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{-1}));
        }
    }

    @Test
    void infoIsFixed() throws Exception {
        try (TextTokenizer t = TextTokenizer.fromSpec("bytes")) {
            TokenizerInfo info = t.info();
            assertEquals("bytes", info.name());
            assertEquals(259, info.vocabSize());
            assertEquals(256, info.bosId());
            assertEquals(257, info.eosId());
            assertEquals(258, info.padId());
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                    "chunkwise bytes tokenizer v1: ids 0..255 = UTF-8 byte values, 256 = BOS, 257 = EOS, 258 = PAD"
                            .getBytes(StandardCharsets.UTF_8)));
            assertEquals(expected, info.vocabHash());
        }
    }
}
