package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The one place that defines the shard schema (columns + metadata keys). One row = one training sequence. */
public final class DatasetSchema {

    public static final String SEQ_ID = "seq_id";
    public static final String INPUT_IDS = "input_ids";
    public static final String LOSS_MASK = "loss_mask";
    public static final String DOC_STARTS = "doc_starts";
    public static final String DOC_LENGTHS = "doc_lengths";
    public static final String CONTINUES_PREVIOUS = "continues_previous";
    public static final String PADDING = "padding";

    public static final String KEY_FORMAT_VERSION = "chunkwise.format_version";
    public static final String KEY_TOKENIZER_NAME = "chunkwise.tokenizer.name";
    public static final String KEY_VOCAB_SIZE = "chunkwise.tokenizer.vocab_size";
    public static final String KEY_BOS_ID = "chunkwise.tokenizer.bos_id";
    public static final String KEY_EOS_ID = "chunkwise.tokenizer.eos_id";
    public static final String KEY_PAD_ID = "chunkwise.tokenizer.pad_id";
    public static final String KEY_VOCAB_HASH = "chunkwise.tokenizer.vocab_hash";
    public static final String KEY_CHUNK_SIZE = "chunkwise.chunk_size";
    public static final String KEY_CHUNKS_PER_SEQ = "chunkwise.chunks_per_seq";
    public static final String KEY_SEQ_LEN = "chunkwise.seq_len";
    public static final String KEY_PACKING = "chunkwise.packing";

    private static final String ITEM = "item";

    private DatasetSchema() {
    }

    public static Schema schema(DatasetHeader h) {
        int seqLen = h.seqLen();
        List<Field> fields = List.of(
                scalar(SEQ_ID, new ArrowType.Int(64, true)),
                new Field(INPUT_IDS, FieldType.notNullable(new ArrowType.FixedSizeList(seqLen)),
                        List.of(scalar(ITEM, new ArrowType.Int(32, true)))),
                new Field(LOSS_MASK, FieldType.notNullable(new ArrowType.FixedSizeList(seqLen)),
                        List.of(scalar(ITEM, new ArrowType.Int(8, true)))),
                new Field(DOC_STARTS, FieldType.notNullable(ArrowType.List.INSTANCE),
                        List.of(scalar(ITEM, new ArrowType.Int(32, true)))),
                new Field(DOC_LENGTHS, FieldType.notNullable(ArrowType.List.INSTANCE),
                        List.of(scalar(ITEM, new ArrowType.Int(32, true)))),
                scalar(CONTINUES_PREVIOUS, ArrowType.Bool.INSTANCE),
                scalar(PADDING, new ArrowType.Int(32, true)));
        Map<String, String> meta = new LinkedHashMap<>();
        TokenizerInfo t = h.tokenizer();
        meta.put(KEY_FORMAT_VERSION, Integer.toString(h.formatVersion()));
        meta.put(KEY_TOKENIZER_NAME, t.name());
        meta.put(KEY_VOCAB_SIZE, Integer.toString(t.vocabSize()));
        meta.put(KEY_BOS_ID, Integer.toString(t.bosId()));
        meta.put(KEY_EOS_ID, Integer.toString(t.eosId()));
        meta.put(KEY_PAD_ID, Integer.toString(t.padId()));
        meta.put(KEY_VOCAB_HASH, t.vocabHash());
        meta.put(KEY_CHUNK_SIZE, Integer.toString(h.chunkSize()));
        meta.put(KEY_CHUNKS_PER_SEQ, Integer.toString(h.chunksPerSeq()));
        meta.put(KEY_SEQ_LEN, Integer.toString(seqLen));
        meta.put(KEY_PACKING, h.packing().configName());
        return new Schema(fields, meta);
    }

    /**
     * Reads the header from a shard's schema metadata.
     *
     * @throws DatasetException naming the missing or malformed key
     */
    public static DatasetHeader headerOf(Schema s) {
        Map<String, String> meta = s.getCustomMetadata();
        if (meta == null || meta.isEmpty()) {
            throw new DatasetException("Arrow schema has no chunkwise metadata (" + KEY_FORMAT_VERSION
                    + " ...); this is not a chunkwise dataset shard");
        }
        try {
            TokenizerInfo tokenizer = new TokenizerInfo(required(meta, KEY_TOKENIZER_NAME), intValue(meta, KEY_VOCAB_SIZE),
                    intValue(meta, KEY_BOS_ID), intValue(meta, KEY_EOS_ID), intValue(meta, KEY_PAD_ID),
                    required(meta, KEY_VOCAB_HASH));
            DatasetHeader h = new DatasetHeader(intValue(meta, KEY_FORMAT_VERSION), tokenizer, intValue(meta, KEY_CHUNK_SIZE),
                    intValue(meta, KEY_CHUNKS_PER_SEQ), PackingPolicy.parse(required(meta, KEY_PACKING)));
            int seqLen = intValue(meta, KEY_SEQ_LEN);
            if (seqLen != h.seqLen()) {
                throw new DatasetException("schema metadata " + KEY_SEQ_LEN + " = " + seqLen + " but chunk_size x chunks_per_seq = "
                        + h.seqLen());
            }
            return h;
        } catch (IllegalArgumentException e) {
            throw new DatasetException("invalid chunkwise schema metadata: " + e.getMessage(), e);
        }
    }

    private static String required(Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) {
            throw new DatasetException("Arrow schema metadata lacks key " + key
                    + "; the shard was not written by a compatible chunkwise version");
        }
        return v;
    }

    private static int intValue(Map<String, String> meta, String key) {
        String v = required(meta, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new DatasetException("Arrow schema metadata " + key + " = '" + v + "' is not an integer");
        }
    }

    private static Field scalar(String name, ArrowType type) {
        return new Field(name, FieldType.notNullable(type), null);
    }
}
