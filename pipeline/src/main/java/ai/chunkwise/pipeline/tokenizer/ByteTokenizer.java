package ai.chunkwise.pipeline.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 bytes as tokens, for models trained from scratch: ids 0..255 are the bytes, 256 = BOS,
 * 257 = EOS, 258 = PAD. No library offers this trivial mapping, hence hand-written.
 */
public final class ByteTokenizer implements TextTokenizer {

    public static final String SPEC = "bytes";
    public static final int BOS_ID = 256;
    public static final int EOS_ID = 257;
    public static final int PAD_ID = 258;
    public static final int VOCAB_SIZE = 259;

    /** The vocabulary is fixed, so its hash is over a fixed description of it. */
    static final String DESCRIPTION = "chunkwise bytes tokenizer v1: ids 0..255 = UTF-8 byte values, 256 = BOS, 257 = EOS, 258 = PAD";

    private static final TokenizerInfo INFO = new TokenizerInfo(SPEC, VOCAB_SIZE, BOS_ID, EOS_ID, PAD_ID,
            Sha256.hex(DESCRIPTION.getBytes(StandardCharsets.UTF_8)));

    @Override
    public TokenizerInfo info() {
        return INFO;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    /** Special ids (BOS/EOS/PAD) carry no text and are skipped; invalid UTF-8 decodes to U+FFFD. */
    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= VOCAB_SIZE) {
                throw new IllegalArgumentException("byte tokenizer: id " + id + " is outside [0, " + VOCAB_SIZE + ")");
            }
            if (id < 256) {
                out.write(id);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        // nothing to release
    }
}
