package ai.chunkwise.tokenize.input;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Strict UTF-8: the fast lenient path must accept exactly what the strict decoder accepts. */
class RecordDecoderTest {
    private final RecordDecoder decoder = new RecordDecoder(InputFormat.LINES, null);

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    private String decode(byte[] b) {
        return decoder.decodeUtf8(b, b.length);
    }

    @Test
    void validTextDecodesToItsCharacters() {
        assertEquals("abc", decode(bytes('a', 'b', 'c')));
        assertEquals("\u00e9", decode(bytes(0xC3, 0xA9)));                 // é, 2 bytes
        assertEquals("\u03a9\u20ac", decode(bytes(0xCE, 0xA9, 0xE2, 0x82, 0xAC))); // Omega, euro sign
        assertEquals("\ud83d\ude00", decode(bytes(0xF0, 0x9F, 0x98, 0x80))); // U+1F600, a surrogate pair in Java
    }

    @Test
    void aReplacementCharacterInTheTextIsKept() {
        // EF BF BD is U+FFFD written correctly: valid text, not a decoding error
        assertEquals("x\ufffdy", decode(bytes('x', 0xEF, 0xBF, 0xBD, 'y')));
    }

    @Test
    void malformedBytesAreRejected() {
        assertNull(decode(bytes('a', 0xC3, 0x28)));                 // lead byte without continuation
        assertNull(decode(bytes(0xC0, 0xAF)));                      // overlong '/'
        assertNull(decode(bytes(0xED, 0xA0, 0x80)));                // encoded surrogate U+D800
        assertNull(decode(bytes('a', 0xE2, 0x82)));                 // truncated 3-byte sequence
        assertNull(decode(bytes(0xF4, 0x90, 0x80, 0x80)));          // above U+10FFFF
        assertNull(decode(bytes(0xFF)));                            // never valid
        assertNull(decode(bytes(0xEF, 0xBF, 0xBD, 0x80)));          // a real U+FFFD does not hide a bad byte
    }

    @Test
    void onlyTheGivenLengthIsDecoded() {
        byte[] b = bytes('o', 'k', 0xFF);
        assertEquals("ok", decoder.decodeUtf8(b, 2));
    }
}
