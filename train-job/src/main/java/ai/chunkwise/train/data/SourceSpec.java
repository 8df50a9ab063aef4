package ai.chunkwise.train.data;

/**
 * A dataset to train on: any Hadoop file system path, and its weight in a mixture of several
 * ({@code train.data.sources}); {@code train.data.dataset} is one source of weight 1.
 */
public record SourceSpec(String path, double weight) implements java.io.Serializable {
}
