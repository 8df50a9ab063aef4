package ai.chunkwise.pipeline.packing;

/**
 * Counts of one packer.
 *
 * @param documents      documents accepted
 * @param tokens         real tokens written, including added BOS/EOS
 * @param padding        padding positions written
 * @param sequences      rows emitted
 * @param splitDocuments documents whose tokens span more than one row (nothing is ever truncated)
 */
public record PackingStats(long documents, long tokens, long padding, long sequences, long splitDocuments) {

    /** Sum of two packers' counts (e.g. over Spark partitions). */
    public PackingStats plus(PackingStats other) {
        return new PackingStats(documents + other.documents, tokens + other.tokens, padding + other.padding,
                sequences + other.sequences, splitDocuments + other.splitDocuments);
    }
}
