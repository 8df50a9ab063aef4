package ai.chunkwise.pipeline.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * OpenAI's tiktoken encodings as shipped by JTokkit (r50k_base = GPT-2, p50k_base, p50k_edit,
 * cl100k_base, o200k_base).
 *
 * <p>Special ids: EOS is {@code <|endoftext|>}. OpenAI's encodings define no BOS token; like GPT-2
 * (whose Hugging Face tokenizer sets bos_token = eos_token = {@code <|endoftext|>}) we use the same id
 * for BOS, so {@code add_bos} marks document starts the way GPT-2 training did. Padding also uses
 * that id: padded positions are outside every document segment and never enter the loss.
 */
public final class TiktokenTokenizer implements TextTokenizer {

    public static final String PREFIX = "tiktoken:";

    /**
     * JTokkit does not expose the vocabulary size or the special-token table, so these are tiktoken's
     * published values (n_vocab and the id of <|endoftext|>); the constructor verifies them against
     * JTokkit's decoder, so a mismatch fails loudly instead of producing a wrong header.
     */
    private record Known(int vocabSize, int endOfTextId) {
    }

    private static final Map<EncodingType, Known> KNOWN = Map.of(
            EncodingType.R50K_BASE, new Known(50257, 50256),
            EncodingType.P50K_BASE, new Known(50281, 50256),
            EncodingType.P50K_EDIT, new Known(50284, 50256),
            EncodingType.CL100K_BASE, new Known(100277, 100257),
            EncodingType.O200K_BASE, new Known(200019, 199999));

    private static final String END_OF_TEXT = "<|endoftext|>";

    /** Loading an encoding parses its rank file (hundreds of ms), so encodings and infos are shared per JVM. */
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    private static final Map<EncodingType, TokenizerInfo> INFOS = new ConcurrentHashMap<>();

    private final Encoding encoding;
    private final TokenizerInfo info;

    private TiktokenTokenizer(EncodingType type) {
        this.encoding = REGISTRY.getEncoding(type);
        this.info = INFOS.computeIfAbsent(type, t -> buildInfo(t, encoding));
    }

    static TiktokenTokenizer forEncoding(String encodingName) {
        EncodingType type = EncodingType.fromName(encodingName).orElseThrow(() -> new IllegalArgumentException(
                "unknown tiktoken encoding '" + encodingName + "' in tokenizer spec '" + PREFIX + encodingName
                        + "'; valid encodings: " + Arrays.stream(EncodingType.values()).map(EncodingType::getName)
                        .collect(Collectors.joining(", "))));
        return new TiktokenTokenizer(type);
    }

    private static TokenizerInfo buildInfo(EncodingType type, Encoding encoding) {
        Known known = KNOWN.get(type);
        if (known == null) {
            throw new IllegalStateException("no vocabulary size known for tiktoken encoding " + type.getName());
        }
        String endOfText = new String(decodeOne(encoding, known.endOfTextId()), StandardCharsets.UTF_8);
        if (!END_OF_TEXT.equals(endOfText)) {
            throw new IllegalStateException("JTokkit's " + type.getName() + " decodes id " + known.endOfTextId()
                    + " as '" + endOfText + "', expected " + END_OF_TEXT + "; the JTokkit version is incompatible");
        }
        if (decodeOrNull(encoding, known.vocabSize() - 1) == null || decodeOrNull(encoding, known.vocabSize()) != null) {
            throw new IllegalStateException("JTokkit's " + type.getName() + " does not have " + known.vocabSize()
                    + " ids; the JTokkit version is incompatible");
        }
        int eos = known.endOfTextId();
        return new TokenizerInfo(PREFIX + type.getName(), known.vocabSize(), eos, eos, eos,
                vocabHash(type.getName(), encoding, known.vocabSize()));
    }

    /**
     * SHA-256 over the encoding name and, for every id, its decoded bytes (ids without a token, such as
     * cl100k's unused range below its special tokens, hash as a -1 length).
     */
    private static String vocabHash(String name, Encoding encoding, int vocabSize) {
        MessageDigest digest = Sha256.newDigest();
        digest.update(name.getBytes(StandardCharsets.UTF_8));
        ByteBuffer header = ByteBuffer.allocate(8);
        for (int id = 0; id < vocabSize; id++) {
            byte[] bytes = decodeOrNull(encoding, id);
            header.clear();
            header.putInt(id).putInt(bytes == null ? -1 : bytes.length);
            digest.update(header.array());
            if (bytes != null) {
                digest.update(bytes);
            }
        }
        return java.util.HexFormat.of().formatHex(digest.digest());
    }

    private static byte[] decodeOne(Encoding encoding, int id) {
        IntArrayList one = new IntArrayList(1);
        one.add(id);
        return encoding.decodeBytes(one);
    }

    private static byte[] decodeOrNull(Encoding encoding, int id) {
        try {
            return decodeOne(encoding, id);
        } catch (RuntimeException unknownId) { // JTokkit signals an unknown id with a NullPointerException
            return null;
        }
    }

    @Override
    public TokenizerInfo info() {
        return info;
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= info.vocabSize()) {
                throw new IllegalArgumentException(info.name() + ": id " + id + " is outside [0, " + info.vocabSize() + ")");
            }
            list.add(id);
        }
        try {
            return encoding.decode(list);
        } catch (NullPointerException unknownId) {
            throw new IllegalArgumentException(info.name() + ": ids contain an unused id: " + unknownId.getMessage(), unknownId);
        }
    }

    @Override
    public void close() {
        // JTokkit encodings are plain shared Java objects
    }
}
