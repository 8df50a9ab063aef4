package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Opens a dataset directory after verifying it completely: the manifest exists and has a supported
 * format, every shard path stays inside the directory, every shard has the listed size and SHA-256, and
 * every shard's schema equals the one the manifest's header defines. Rows are then streamed shard by
 * shard and record batch by record batch; nothing is loaded whole.
 */
public final class DatasetReader implements AutoCloseable {

    private static final String RERUN = "delete the dataset directory and re-run the tokenize job";

    private final Path dir;
    private final Manifest manifest;
    private final List<Path> shardFiles;
    private final BufferAllocator allocator = new RootAllocator();
    private final Set<ArrowFileReader> openReaders = new HashSet<>();
    private boolean closed;

    private DatasetReader(Path dir, Manifest manifest, List<Path> shardFiles) {
        this.dir = dir;
        this.manifest = manifest;
        this.shardFiles = shardFiles;
    }

    /** Opens and fully verifies (including every shard's SHA-256) a dataset. */
    public static DatasetReader open(Path datasetDir) {
        return open(datasetDir, true);
    }

    /**
     * Opens a dataset; with {@code verifyChecksums == false} the shards' SHA-256 is not recomputed
     * (sizes, paths and schemas are still checked), for repeated opens of a dataset verified before.
     */
    public static DatasetReader open(Path datasetDir, boolean verifyChecksums) {
        Path given = datasetDir.toAbsolutePath().normalize();
        // the newest version: <dir>/manifest.json; an older one: <dir>/versions/vNNNN.json named directly
        boolean olderVersion = DatasetVersion.isVersionManifest(given);
        Path dir = olderVersion ? given.getParent().getParent() : given;
        Manifest manifest = readManifest(dir, olderVersion ? given : dir.resolve(Manifest.FILE_NAME));
        List<Path> files = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        long rows = 0;
        long tokens = 0;
        for (ShardEntry entry : manifest.shards()) {
            Path file = resolveShard(dir, entry);
            if (!seen.add(file)) {
                throw new DatasetException("dataset " + dir + ": manifest lists shard " + entry.path() + " twice; " + RERUN);
            }
            verifyBytes(file, entry, verifyChecksums);
            files.add(file);
            rows += entry.rows();
            tokens += entry.tokens();
        }
        DatasetCounts c = manifest.counts();
        if (rows != c.sequences() || tokens != c.tokens()) {
            throw new DatasetException("dataset " + dir + ": the shards hold " + rows + " rows / " + tokens
                    + " tokens but the manifest counts say " + c.sequences() + " / " + c.tokens() + "; " + RERUN);
        }
        DatasetReader reader = new DatasetReader(dir, manifest, files);
        try {
            Schema expected = DatasetSchema.schema(manifest.header());
            for (int i = 0; i < files.size(); i++) {
                reader.checkSchema(i, expected);
            }
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
        return reader;
    }

    public Manifest manifest() {
        return manifest;
    }

    public Path directory() {
        return dir;
    }

    /** Absolute paths of the shards, in manifest order. */
    public List<Path> shardFiles() {
        return List.copyOf(shardFiles);
    }

    /** All rows, shard after shard in manifest order. Each call starts a new pass. */
    public Iterator<PackedSequence> sequences() {
        return new RowIterator(0, shardFiles.size());
    }

    /** The rows of one shard (0-based manifest index), e.g. for a trainer that shuffles shards. */
    public Iterator<PackedSequence> shardSequences(int shardIndex) {
        if (shardIndex < 0 || shardIndex >= shardFiles.size()) {
            throw new IndexOutOfBoundsException("shard " + shardIndex + " of " + shardFiles.size());
        }
        return new RowIterator(shardIndex, shardIndex + 1);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ArrowFileReader r : List.copyOf(openReaders)) {
            closeQuietly(r);
        }
        openReaders.clear();
        allocator.close();
    }

    private static Manifest readManifest(Path dir, Path file) {
        if (!Files.isDirectory(dir)) {
            throw new DatasetException("dataset " + dir + " does not exist (no such directory); check the path");
        }
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new DatasetException("dataset " + dir + " does not exist: it has no " + Manifest.FILE_NAME
                    + " (the job writes it last, so the job did not finish); " + RERUN);
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Manifest m = Manifest.fromJson(json, file.toString());
        int v = DatasetHeader.CURRENT_FORMAT_VERSION;
        if (m.formatVersion() != v || m.header().formatVersion() != v) {
            throw new DatasetException(file + ": dataset format version " + m.formatVersion() + " (header "
                    + m.header().formatVersion() + "), this build reads version " + v
                    + "; re-run the tokenize job with this build or use the build that wrote it");
        }
        return m;
    }

    /** Shard paths are relative and must stay inside the dataset directory (no absolute paths, no ".."). */
    private static Path resolveShard(Path dir, ShardEntry entry) {
        String p = entry.path();
        Path relative;
        try {
            relative = Path.of(p);
        } catch (RuntimeException e) {
            throw new DatasetException("dataset " + dir + ": manifest shard path '" + p + "' is not a valid path; " + RERUN);
        }
        Path resolved = dir.resolve(relative).normalize();
        if (p.isEmpty() || relative.isAbsolute() || p.startsWith("/") || p.contains("\\")
                || !resolved.startsWith(dir) || resolved.equals(dir)) {
            throw new DatasetException("dataset " + dir + ": manifest shard path '" + p
                    + "' is absolute or leaves the dataset directory; shard paths must be relative paths inside it. "
                    + "The manifest is corrupt or was tampered with; " + RERUN);
        }
        return resolved;
    }

    private static void verifyBytes(Path file, ShardEntry entry, boolean verifyChecksum) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DatasetException("shard " + file + " listed in the manifest is missing; the dataset is incomplete: " + RERUN);
        } catch (IOException e) {
            throw new DatasetException("cannot read shard " + file + ": " + e.getMessage(), e);
        }
        if (size != entry.bytes()) {
            throw new DatasetException("shard " + file + " has " + size + " bytes but the manifest says " + entry.bytes()
                    + (size < entry.bytes() ? " (truncated)" : " (extra bytes)") + "; the file is damaged: " + RERUN);
        }
        if (!verifyChecksum) {
            return;
        }
        String actual = sha256(file);
        if (!actual.equalsIgnoreCase(entry.sha256())) {
            throw new DatasetException("shard " + file + " fails its checksum: SHA-256 is " + actual + ", the manifest says "
                    + entry.sha256() + "; the file is corrupt: " + RERUN);
        }
    }

    private static String sha256(Path file) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            byte[] buf = new byte[1 << 20];
            while (in.read(buf) >= 0) {
                // the digest stream hashes what passes through
            }
        } catch (IOException e) {
            throw new DatasetException("cannot read shard " + file + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private void checkSchema(int shard, Schema expected) {
        Path file = shardFiles.get(shard);
        ArrowFileReader r = openShard(file);
        try {
            Schema actual = r.getVectorSchemaRoot().getSchema();
            if (!actual.equals(expected)) {
                DatasetHeader h;
                try {
                    h = DatasetSchema.headerOf(actual);
                } catch (DatasetException e) {
                    throw new DatasetException("shard " + file + ": " + e.getMessage() + "; " + RERUN, e);
                }
                throw new DatasetException("shard " + file + " has header " + h + " / columns " + actual.getFields()
                        + " but the manifest says " + manifest.header() + "; the shard belongs to another dataset: " + RERUN);
            }
        } catch (IOException e) {
            throw new DatasetException("shard " + file + " is not a readable Arrow file (" + e.getMessage() + "); " + RERUN, e);
        } finally {
            closeReader(r);
        }
    }

    private ArrowFileReader openShard(Path file) {
        if (closed) {
            throw new IllegalStateException("dataset reader is closed");
        }
        try {
            ArrowFileReader r = new ArrowFileReader(Files.newByteChannel(file), allocator);
            openReaders.add(r);
            try {
                r.getVectorSchemaRoot(); // reads the footer and schema now, so a damaged file fails here
            } catch (IOException | RuntimeException e) {
                closeReader(r);
                throw e;
            }
            return r;
        } catch (IOException | RuntimeException e) {
            if (e instanceof DatasetException de) {
                throw de;
            }
            throw new DatasetException("shard " + file + " is not a readable Arrow IPC file (" + e.getMessage() + "); " + RERUN, e);
        }
    }

    private void closeReader(ArrowFileReader r) {
        openReaders.remove(r);
        closeQuietly(r);
    }

    private static void closeQuietly(ArrowFileReader r) {
        try {
            r.close();
        } catch (IOException | RuntimeException ignored) {
            // closing a read-only file: nothing is lost
        }
    }

    /** Streams rows of shards [from, to), one record batch in memory at a time. */
    private final class RowIterator implements Iterator<PackedSequence> {
        private final int endShard;
        private int shard;
        private ArrowFileReader reader;
        private VectorSchemaRoot root;
        private int row;
        private long rowsInShard;

        RowIterator(int fromShard, int toShard) {
            this.shard = fromShard;
            this.endShard = toShard;
        }

        @Override
        public boolean hasNext() {
            while (true) {
                if (root != null && row < root.getRowCount()) {
                    return true;
                }
                if (reader != null && loadNextBatch()) {
                    continue;
                }
                if (reader != null) {
                    finishShard();
                }
                if (shard >= endShard) {
                    return false;
                }
                reader = openShard(shardFiles.get(shard));
                rowsInShard = 0;
                root = null;
            }
        }

        @Override
        public PackedSequence next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            PackedSequence s = readRow(row);
            row++;
            rowsInShard++;
            return s;
        }

        private boolean loadNextBatch() {
            try {
                if (!reader.loadNextBatch()) {
                    return false;
                }
                root = reader.getVectorSchemaRoot();
                row = 0;
                return true;
            } catch (IOException | RuntimeException e) {
                throw failure("cannot read a record batch", e);
            }
        }

        private void finishShard() {
            ShardEntry entry = manifest.shards().get(shard);
            closeReader(reader);
            reader = null;
            root = null;
            if (rowsInShard != entry.rows()) {
                throw new DatasetException("shard " + shardFiles.get(shard) + " holds " + rowsInShard
                        + " rows but the manifest says " + entry.rows() + "; " + RERUN);
            }
            shard++;
        }

        private PackedSequence readRow(int r) {
            int seqLen = manifest.header().seqLen();
            try {
                BigIntVector seqIds = (BigIntVector) root.getVector(DatasetSchema.SEQ_ID);
                FixedSizeListVector ids = (FixedSizeListVector) root.getVector(DatasetSchema.INPUT_IDS);
                FixedSizeListVector mask = (FixedSizeListVector) root.getVector(DatasetSchema.LOSS_MASK);
                ListVector starts = (ListVector) root.getVector(DatasetSchema.DOC_STARTS);
                ListVector lengths = (ListVector) root.getVector(DatasetSchema.DOC_LENGTHS);
                BitVector continues = (BitVector) root.getVector(DatasetSchema.CONTINUES_PREVIOUS);
                IntVector padding = (IntVector) root.getVector(DatasetSchema.PADDING);

                int[] inputIds = new int[seqLen];
                IntVector idItems = (IntVector) ids.getDataVector();
                // bulk copy of the little-endian int32 buffer: per-element get() would dominate read time
                idItems.getDataBuffer().nioBuffer((long) r * seqLen * Integer.BYTES, seqLen * Integer.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(inputIds);
                byte[] lossMask = new byte[seqLen];
                TinyIntVector maskItems = (TinyIntVector) mask.getDataVector();
                maskItems.getDataBuffer().getBytes((long) r * seqLen, lossMask, 0, seqLen);
                return new PackedSequence(seqIds.get(r), inputIds, lossMask, intList(starts, r), intList(lengths, r),
                        continues.get(r) == 1, padding.get(r));
            } catch (RuntimeException e) {
                throw failure("row " + (rowsInShard) + " is malformed", e);
            }
        }

        private int[] intList(ListVector list, int r) {
            int from = list.getElementStartIndex(r);
            int to = list.getElementEndIndex(r);
            IntVector items = (IntVector) list.getDataVector();
            int[] out = new int[to - from];
            for (int i = from; i < to; i++) {
                out[i - from] = items.get(i);
            }
            return out;
        }

        private DatasetException failure(String what, Exception e) {
            Path file = shardFiles.get(shard);
            if (reader != null) {
                closeReader(reader);
                reader = null;
                root = null;
            }
            return new DatasetException("shard " + file + ": " + what + " (" + e.getMessage() + "); " + RERUN, e);
        }
    }
}
