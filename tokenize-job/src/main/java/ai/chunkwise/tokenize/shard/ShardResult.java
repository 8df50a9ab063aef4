package ai.chunkwise.tokenize.shard;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/** What one shard task reports to the driver: the written file and the counts of its documents. */
public final class ShardResult implements Serializable {
    private static final long serialVersionUID = 1L;

    public final int shard;
    /** File name inside the dataset directory. */
    public final String fileName;
    public final long rows;
    public final long tokens;
    public final long padding;
    public final long bytes;
    public final String sha256;
    /** Records routed to this shard, skipped ones included. */
    public final long documentsRead;
    public final long documentsPacked;
    public final long splitDocuments;
    public final TreeMap<String, Long> skipped;

    public ShardResult(int shard, String fileName, long rows, long tokens, long padding, long bytes, String sha256,
                       long documentsRead, long documentsPacked, long splitDocuments, Map<String, Long> skipped) {
        this.shard = shard;
        this.fileName = fileName;
        this.rows = rows;
        this.tokens = tokens;
        this.padding = padding;
        this.bytes = bytes;
        this.sha256 = sha256;
        this.documentsRead = documentsRead;
        this.documentsPacked = documentsPacked;
        this.splitDocuments = splitDocuments;
        this.skipped = new TreeMap<>(skipped);
    }
}
