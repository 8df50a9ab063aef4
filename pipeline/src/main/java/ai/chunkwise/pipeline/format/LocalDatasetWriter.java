package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;

/**
 * Writes a whole dataset into a local directory from one thread: rolls shards every
 * {@code rowsPerShard} rows, writes each to a temporary name and renames it when complete, and
 * writes the manifest last. For tests, tools and small single-machine runs; the Spark job writes
 * shards in parallel with {@link ShardWriter} and the manifest with {@link Manifest#writeAtomically}.
 */
public final class LocalDatasetWriter implements AutoCloseable {

    private final Path dir;
    private final DatasetHeader header;
    private final long rowsPerShard;
    private final int rowsPerBatch;
    private final List<ShardEntry> shards = new ArrayList<>();
    private ShardWriter current;
    private Path currentTmp;
    private Path currentFinal;
    private long rowsInCurrent;
    private boolean done;

    public LocalDatasetWriter(Path datasetDir, DatasetHeader header, long rowsPerShard, int rowsPerBatch) {
        if (rowsPerShard <= 0 || rowsPerBatch <= 0) {
            throw new IllegalArgumentException("rowsPerShard and rowsPerBatch must be > 0");
        }
        this.dir = datasetDir;
        this.header = header;
        this.rowsPerShard = rowsPerShard;
        this.rowsPerBatch = rowsPerBatch;
        if (Files.exists(dir.resolve(Manifest.FILE_NAME))) {
            throw new DatasetException("dataset " + dir + " already exists (it has a " + Manifest.FILE_NAME
                    + "); delete it or choose another output directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create dataset directory " + dir, e);
        }
    }

    /** The relative path of the n-th shard. */
    public static String shardName(int index) {
        return String.format(Locale.ROOT, "shard-%05d.arrow", index);
    }

    public void write(PackedSequence s) {
        if (done) {
            throw new IllegalStateException("dataset already finished");
        }
        if (current == null) {
            openShard();
        }
        current.write(s);
        if (++rowsInCurrent == rowsPerShard) {
            closeShard();
        }
    }

    /** Completes the last shard and writes the manifest; returns it. */
    public Manifest finish(String createdBy, SortedMap<String, Object> config, long documentsRead,
                           SortedMap<String, Long> documentsSkipped) {
        if (current != null) {
            closeShard();
        }
        done = true;
        long rows = 0;
        long tokens = 0;
        long padding = 0;
        for (ShardEntry e : shards) {
            rows += e.rows();
            tokens += e.tokens();
            padding += e.rows() * header.seqLen() - e.tokens();
        }
        Manifest m = new Manifest(DatasetHeader.CURRENT_FORMAT_VERSION, createdBy, header, config,
                new DatasetCounts(documentsRead, documentsSkipped, tokens, padding, rows), shards);
        m.writeAtomically(dir);
        return m;
    }

    /** Abandons an unfinished dataset: the open shard's temporary file is deleted, no manifest is written. */
    @Override
    public void close() {
        if (current != null) {
            current.close();
            current = null;
            try {
                Files.deleteIfExists(currentTmp);
            } catch (IOException ignored) {
                // a stray .tmp file is harmless: without a manifest the dataset does not exist
            }
        }
        done = true;
    }

    private void openShard() {
        String name = shardName(shards.size());
        currentFinal = dir.resolve(name);
        currentTmp = dir.resolve(name + ".tmp");
        try {
            OutputStream out = new BufferedOutputStream(Files.newOutputStream(currentTmp), 1 << 20);
            current = new ShardWriter(out, header, rowsPerBatch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create shard " + currentTmp, e);
        }
        rowsInCurrent = 0;
    }

    private void closeShard() {
        ShardStats stats = current.finish();
        current = null;
        try {
            Files.move(currentTmp, currentFinal, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rename " + currentTmp + " to " + currentFinal, e);
        }
        shards.add(stats.toEntry(currentFinal.getFileName().toString()));
    }
}
