package ai.chunkwise.pipeline.packing;

import java.util.function.Consumer;

/**
 * Lays tokenized documents out in fixed-length rows according to a {@link PackingSpec}; rows go to the
 * consumer given at creation, with seqIds 0, 1, 2, ... in emission order. Not thread-safe.
 */
public interface SequencePacker {

    static SequencePacker create(PackingSpec spec, Consumer<PackedSequence> out) {
        return switch (spec.policy()) {
            case CONCAT -> new StreamingPacker(spec, out, 1);
            case CHUNK_ALIGNED -> new StreamingPacker(spec, out, spec.chunkSize());
            case BFD -> new BestFitDecreasingPacker(spec, out);
        };
    }

    /** One document's tokens, without BOS/EOS (the packer adds them per spec). */
    void accept(int[] documentTokens);

    /** Flushes: emits the last (padded) row(s). No document may be accepted afterwards. */
    void finish();

    PackingStats stats();
}
