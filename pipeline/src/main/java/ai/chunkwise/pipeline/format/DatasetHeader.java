package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;

import java.util.Objects;

/** What every shard of a dataset shares: format version, tokenizer identity and row geometry. */
public record DatasetHeader(int formatVersion, TokenizerInfo tokenizer, int chunkSize, int chunksPerSeq,
                            PackingPolicy packing) {

    /** The format this code writes and reads. */
    public static final int CURRENT_FORMAT_VERSION = 1;

    public DatasetHeader {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(packing, "packing");
        if (formatVersion <= 0) {
            throw new IllegalArgumentException("format version must be > 0, got " + formatVersion);
        }
        if (chunkSize <= 0 || chunksPerSeq <= 0 || (long) chunkSize * chunksPerSeq > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("invalid geometry: chunk_size " + chunkSize + " x chunks_per_seq " + chunksPerSeq);
        }
    }

    /** The header of a dataset written now with the given packing spec. */
    public static DatasetHeader of(PackingSpec spec) {
        return new DatasetHeader(CURRENT_FORMAT_VERSION, spec.tokenizer(), spec.chunkSize(), spec.chunksPerSeq(), spec.policy());
    }

    public int seqLen() {
        return chunkSize * chunksPerSeq;
    }
}
