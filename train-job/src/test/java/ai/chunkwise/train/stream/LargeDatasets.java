package ai.chunkwise.train.stream;

import ai.chunkwise.pipeline.format.DatasetCounts;
import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.LocalDatasetWriter;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.format.ShardEntry;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.train.data.TinyDatasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A dataset of any size on disk, made fast: one shard of random rows written by the real writer, then copied
 * under the following shard names (same bytes, so the same SHA-256), with a manifest listing them all.
 */
final class LargeDatasets {
    static final int CHUNK = 64;
    static final int CHUNKS = 8;

    private LargeDatasets() {
    }

    /** Writes a dataset of at least {@code bytes} bytes of shards; returns its manifest. */
    static Manifest write(Path dir, long bytes, int rowsPerShard) {
        DatasetHeader header = new DatasetHeader(DatasetHeader.CURRENT_FORMAT_VERSION, TinyDatasets.TOKENIZER, CHUNK,
                CHUNKS, PackingPolicy.CONCAT);
        Path first = dir.resolve("first");
        int len = CHUNK * CHUNKS;
        SplittableRandom random = new SplittableRandom(42);
        Manifest one;
        try (LocalDatasetWriter w = new LocalDatasetWriter(first, header, rowsPerShard, 64)) {
            for (int r = 0; r < rowsPerShard; r++) {
                int[] ids = new int[len];
                byte[] mask = new byte[len];
                for (int j = 0; j < len; j++) {
                    ids[j] = 3 + random.nextInt(TinyDatasets.VOCAB - 3);
                    mask[j] = (byte) (j == 0 ? 0 : 1);
                }
                w.write(new PackedSequence(r, ids, mask, new int[] {0}, new int[] {len}, false, 0));
            }
            one = w.finish("large-dataset test", new TreeMap<>(), rowsPerShard, new TreeMap<>());
        }
        ShardEntry shard = one.shards().get(0);
        int copies = (int) Math.max(1, (bytes + shard.bytes() - 1) / shard.bytes());
        List<ShardEntry> shards = new ArrayList<>();
        try {
            Path ds = dir.resolve("ds");
            Files.createDirectories(ds);
            for (int i = 0; i < copies; i++) {
                String name = LocalDatasetWriter.shardName(i);
                Files.copy(first.resolve(shard.path()), ds.resolve(name));
                shards.add(new ShardEntry(name, shard.rows(), shard.tokens(), shard.bytes(), shard.sha256()));
            }
            DatasetCounts c = one.counts();
            Manifest m = new Manifest(one.formatVersion(), one.createdBy(), one.header(), one.config(),
                    new DatasetCounts(c.documentsRead() * copies, c.documentsSkipped(), c.tokens() * copies,
                            c.paddingTokens() * copies, c.sequences() * copies), shards);
            m.writeAtomically(ds);
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
