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

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Opens a dataset directory on any Hadoop file system ({@link DatasetLocation}) and verifies it: the manifest
 * exists and has a supported format, every shard path stays inside the directory, every shard has the listed
 * size and SHA-256, and every shard's schema equals the one the manifest's header defines. Rows are streamed
 * shard by shard and record batch by record batch; nothing is loaded whole.
 *
 * <p>Opening a dataset means reading {@code <root>/manifest.json} (the newest version's manifest): shard paths
 * come from it alone. {@link Verification} says when the per-shard checks run: all at open ({@code inspect}, the
 * pipeline's verify step), or when a shard is first read ({@link Verification#ON_FIRST_READ}: a trainer
 * streaming a dataset larger than anything worth hashing twice up front); each shard is hashed at most once
 * per reader.
 */
public final class DatasetReader implements AutoCloseable {

    private static final String RERUN = "delete the dataset directory and re-run the tokenize job";

    /** When the shards' bytes (SHA-256) and schemas are checked; sizes and paths are always checked at open. */
    public enum Verification {
        /** Every shard's SHA-256 and schema at open. */
        FULL,
        /** Every shard's schema at open, no SHA-256 (a dataset verified before). */
        NO_CHECKSUMS,
        /** Each shard's SHA-256 and schema when it is first read, before any of its rows is returned. */
        ON_FIRST_READ,
        /** Each shard's schema when it is first read, no SHA-256. */
        ON_FIRST_READ_NO_CHECKSUMS;

        boolean checksums() {
            return this == FULL || this == ON_FIRST_READ;
        }

        boolean upFront() {
            return this == FULL || this == NO_CHECKSUMS;
        }
    }

    private final org.apache.hadoop.fs.Path dir;
    private final FileSystem fs;
    private final Manifest manifest;
    private final List<org.apache.hadoop.fs.Path> shardFiles;
    private final Verification verification;
    private final Schema expectedSchema;
    private final Set<Integer> verifiedShards = ConcurrentHashMap.newKeySet();
    private final BufferAllocator allocator = new RootAllocator();
    private final Set<ArrowFileReader> openReaders = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private DatasetReader(org.apache.hadoop.fs.Path dir, FileSystem fs, Manifest manifest,
                          List<org.apache.hadoop.fs.Path> shardFiles, Verification verification) {
        this.dir = dir;
        this.fs = fs;
        this.manifest = manifest;
        this.shardFiles = shardFiles;
        this.verification = verification;
        this.expectedSchema = DatasetSchema.schema(manifest.header());
    }

    /** Opens and fully verifies (including every shard's SHA-256) a local dataset. */
    public static DatasetReader open(Path datasetDir) {
        return open(datasetDir, true);
    }

    /**
     * Opens a local dataset; with {@code verifyChecksums == false} the shards' SHA-256 is not recomputed
     * (sizes, paths and schemas are still checked), for repeated opens of a dataset verified before.
     */
    public static DatasetReader open(Path datasetDir, boolean verifyChecksums) {
        return open(DatasetLocation.local(datasetDir), DatasetLocation.environmentConfiguration(),
                verifyChecksums ? Verification.FULL : Verification.NO_CHECKSUMS);
    }

    /** Opens the dataset at {@code location} (any Hadoop file system path, see {@link DatasetLocation}). */
    public static DatasetReader open(String location, Configuration conf, Verification verification) {
        return open(DatasetLocation.qualify(location, conf), conf, verification);
    }

    public static DatasetReader open(org.apache.hadoop.fs.Path location, Configuration conf, Verification verification) {
        FileSystem fs = DatasetLocation.fileSystem(location, conf);
        org.apache.hadoop.fs.Path given = fs.makeQualified(location);
        // the newest version: <dir>/manifest.json; an older one: <dir>/versions/vNNNN.json named directly
        boolean olderVersion = isVersionManifest(fs, given);
        org.apache.hadoop.fs.Path dir = olderVersion ? given.getParent().getParent() : given;
        String shown = DatasetLocation.display(dir);
        Manifest manifest = readManifest(fs, dir,
                olderVersion ? given : new org.apache.hadoop.fs.Path(dir, Manifest.FILE_NAME));
        List<org.apache.hadoop.fs.Path> files = new ArrayList<>();
        Set<org.apache.hadoop.fs.Path> seen = new HashSet<>();
        long rows = 0;
        long tokens = 0;
        for (ShardEntry entry : manifest.shards()) {
            org.apache.hadoop.fs.Path file = resolveShard(dir, entry);
            if (!seen.add(file)) {
                throw new DatasetException("dataset " + shown + ": manifest lists shard " + entry.path() + " twice; " + RERUN);
            }
            files.add(file);
            rows += entry.rows();
            tokens += entry.tokens();
        }
        DatasetCounts c = manifest.counts();
        if (rows != c.sequences() || tokens != c.tokens()) {
            throw new DatasetException("dataset " + shown + ": the shards hold " + rows + " rows / " + tokens
                    + " tokens but the manifest counts say " + c.sequences() + " / " + c.tokens() + "; " + RERUN);
        }
        try {
            checkSizes(fs, files, manifest.shards());
        } catch (DatasetException e) {
            if (olderVersion) {
                requireNotReplaced(fs, dir, manifest);
            }
            throw e;
        }
        DatasetReader reader = new DatasetReader(dir, fs, manifest, files, verification);
        if (verification.upFront()) {
            try {
                for (int i = 0; i < files.size(); i++) {
                    reader.verifyShard(i);
                }
            } catch (RuntimeException e) {
                reader.close();
                throw e;
            }
        }
        return reader;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The dataset directory as a qualified Hadoop path. */
    public org.apache.hadoop.fs.Path location() {
        return dir;
    }

    /** The file system of the dataset (the inspector lists the kept versions through it). */
    FileSystem fileSystem() {
        return fs;
    }

    /** The dataset directory as shown in messages (a plain path when local). */
    public String displayName() {
        return DatasetLocation.display(dir);
    }

    /** The shards, in manifest order. */
    public List<org.apache.hadoop.fs.Path> shardFiles() {
        return List.copyOf(shardFiles);
    }

    /** How many shards have had their checks (SHA-256 and schema) done by this reader so far. */
    public int verifiedShardCount() {
        return verifiedShards.size();
    }

    /** All rows, shard after shard in manifest order. Each call starts a new pass. */
    public Iterator<PackedSequence> sequences() {
        return new RowIterator(0, shardFiles.size());
    }

    /**
     * The rows of one shard (0-based manifest index), record batch by record batch, e.g. for a trainer that
     * shuffles shards. The shard is verified first if this reader has not done so yet.
     */
    public ShardRows shardSequences(int shardIndex) {
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

    private static boolean isVersionManifest(FileSystem fs, org.apache.hadoop.fs.Path p) {
        if (p.getParent() == null || !DatasetVersion.isVersionManifestName(p.getName(), p.getParent().getName())) {
            return false;
        }
        try {
            return fs.getFileStatus(p).isFile();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * An older version named by its kept manifest whose shards are gone: if the current manifest is a later version
     * that no longer lists them, the version was replaced (--overwrite), which is no damage to report.
     */
    private static void requireNotReplaced(FileSystem fs, org.apache.hadoop.fs.Path dir, Manifest older) {
        if (older.datasetVersion() == null) {
            return;
        }
        Manifest current;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(dir, Manifest.FILE_NAME))) {
            current = Manifest.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), Manifest.FILE_NAME);
        } catch (IOException | DatasetException e) {
            return;   // no readable current version: the missing shard is the news
        }
        int was = older.datasetVersion().number();
        if (current.datasetVersion() == null || current.datasetVersion().number() <= was) {
            return;
        }
        Set<String> listed = new HashSet<>();
        current.shards().forEach(s -> listed.add(s.path()));
        if (older.shards().stream().anyMatch(s -> !listed.contains(s.path()))) {
            String shown = DatasetLocation.display(dir);
            throw new DatasetException("dataset version " + was + " of " + shown + " was replaced by version "
                    + current.datasetVersion().number() + " (--overwrite deletes a replaced version's shards once the "
                    + "new one is published; its manifest stays in versions/ as a record): open " + shown
                    + " for the current version");
        }
    }

    private static Manifest readManifest(FileSystem fs, org.apache.hadoop.fs.Path dir, org.apache.hadoop.fs.Path file) {
        String shown = DatasetLocation.display(dir);
        String json;
        try {
            if (!fs.getFileStatus(dir).isDirectory()) {
                throw new DatasetException(NotADataset.fileMessage(dir));
            }
        } catch (FileNotFoundException e) {
            throw new DatasetException("dataset " + shown + " does not exist (no such directory); check the path");
        } catch (IOException e) {
            throw new DatasetException("cannot read dataset " + shown + ": " + e.getMessage(), e);
        }
        try (InputStream in = fs.open(file)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (FileNotFoundException e) {
            // not necessarily a damaged dataset: say what the directory is (documents, a run's output, empty, ...)
            throw new DatasetException(file.equals(new org.apache.hadoop.fs.Path(dir, Manifest.FILE_NAME))
                    ? NotADataset.message(fs, dir)
                    : "dataset version manifest " + DatasetLocation.display(file) + " does not exist; check the path");
        } catch (IOException e) {
            throw new DatasetException("cannot read " + DatasetLocation.display(file) + ": " + e.getMessage(), e);
        }
        Manifest m = Manifest.fromJson(json, DatasetLocation.display(file));
        int v = DatasetHeader.CURRENT_FORMAT_VERSION;
        if (m.formatVersion() != v || m.header().formatVersion() != v) {
            throw new DatasetException(DatasetLocation.display(file) + ": dataset format version " + m.formatVersion()
                    + " (header " + m.header().formatVersion() + "), this build reads version " + v
                    + "; re-run the tokenize job with this build or use the build that wrote it");
        }
        return m;
    }

    /**
     * Shard paths are relative, '/'-separated and must stay inside the dataset directory: no absolute paths,
     * no scheme, no "." or ".." segments, no backslashes.
     */
    private static org.apache.hadoop.fs.Path resolveShard(org.apache.hadoop.fs.Path dir, ShardEntry entry) {
        String p = entry.path();
        boolean escapes = p.isEmpty() || p.startsWith("/") || p.contains("\\") || p.contains(":");
        for (String segment : p.split("/", -1)) {
            escapes |= segment.isEmpty() || segment.equals(".") || segment.equals("..");
        }
        if (escapes) {
            throw new DatasetException("dataset " + DatasetLocation.display(dir) + ": manifest shard path '" + p
                    + "' is absolute or leaves the dataset directory; shard paths must be relative paths inside it. "
                    + "The manifest is corrupt or was tampered with; " + RERUN);
        }
        try {
            return new org.apache.hadoop.fs.Path(dir, p);
        } catch (IllegalArgumentException e) {
            throw new DatasetException("dataset " + DatasetLocation.display(dir) + ": manifest shard path '" + p
                    + "' is not a valid path; " + RERUN);
        }
    }

    /** Every shard's size against the manifest: one listing per directory holding shards, not one call per shard. */
    private static void checkSizes(FileSystem fs, List<org.apache.hadoop.fs.Path> files, List<ShardEntry> entries) {
        Map<org.apache.hadoop.fs.Path, Map<String, Long>> listings = new HashMap<>();
        for (int i = 0; i < files.size(); i++) {
            org.apache.hadoop.fs.Path file = files.get(i);
            ShardEntry entry = entries.get(i);
            Map<String, Long> sizes = listings.computeIfAbsent(file.getParent(), parent -> list(fs, parent));
            Long size = sizes.get(file.getName());
            String shown = DatasetLocation.display(file);
            if (size == null) {
                throw new DatasetException("shard " + shown + " listed in the manifest is missing; the dataset is incomplete: " + RERUN);
            }
            if (size != entry.bytes()) {
                throw new DatasetException("shard " + shown + " has " + size + " bytes but the manifest says " + entry.bytes()
                        + (size < entry.bytes() ? " (truncated)" : " (extra bytes)") + "; the file is damaged: " + RERUN);
            }
        }
    }

    private static Map<String, Long> list(FileSystem fs, org.apache.hadoop.fs.Path directory) {
        Map<String, Long> sizes = new HashMap<>();
        try {
            for (FileStatus s : fs.listStatus(directory)) {
                if (s.isFile()) {
                    sizes.put(s.getPath().getName(), s.getLen());
                }
            }
        } catch (FileNotFoundException e) {
            // no such directory: every shard in it is reported missing
        } catch (IOException e) {
            throw new DatasetException("cannot list " + DatasetLocation.display(directory) + ": " + e.getMessage(), e);
        }
        return sizes;
    }

    /** SHA-256 (if this reader checks checksums) and schema of one shard, once per reader. */
    private void verifyShard(int shard) {
        if (verifiedShards.contains(shard)) {
            return;
        }
        if (verification.checksums()) {
            verifyChecksum(shard);
        }
        checkSchema(shard);
        verifiedShards.add(shard);
    }

    private void verifyChecksum(int shard) {
        org.apache.hadoop.fs.Path file = shardFiles.get(shard);
        ShardEntry entry = manifest.shards().get(shard);
        String actual = sha256(file);
        if (!actual.equalsIgnoreCase(entry.sha256())) {
            String kept = keptSha256(entry.path());
            if (kept != null && kept.equalsIgnoreCase(actual)) {
                // the shard is as published: it is manifest.json's record that changed
                throw new DatasetException(DatasetLocation.display(new org.apache.hadoop.fs.Path(dir, Manifest.FILE_NAME))
                        + " was edited: it gives shard " + entry.path() + " the SHA-256 " + entry.sha256() + ", but the "
                        + "shard matches the " + actual + " recorded when its version was published ("
                        + DatasetVersion.manifestPath(manifest.datasetVersion().number()) + "); the shard is intact. "
                        + "Restore manifest.json from that file, or re-run the tokenize job with --overwrite");
            }
            throw new DatasetException("shard " + DatasetLocation.display(file) + " fails its checksum: SHA-256 is "
                    + actual + ", the manifest says " + entry.sha256() + "; the file is corrupt: " + RERUN);
        }
    }

    /** The SHA-256 the kept manifest of this version ({@code versions/vNNNN.json}) records for a shard, or null. */
    private String keptSha256(String shardPath) {
        if (manifest.datasetVersion() == null) {
            return null;
        }
        org.apache.hadoop.fs.Path kept = new org.apache.hadoop.fs.Path(dir,
                DatasetVersion.manifestPath(manifest.datasetVersion().number()));
        try (InputStream in = fs.open(kept)) {
            Manifest m = Manifest.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), kept.toString());
            return m.shards().stream().filter(e -> e.path().equals(shardPath)).map(ShardEntry::sha256).findFirst()
                    .orElse(null);
        } catch (IOException | DatasetException e) {
            return null;   // no kept record to compare with: the checksum failure stands as it is
        }
    }

    private String sha256(org.apache.hadoop.fs.Path file) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        try (InputStream in = new DigestInputStream(fs.open(file), digest)) {
            byte[] buf = new byte[1 << 20];
            while (in.read(buf) >= 0) {
                // the digest stream hashes what passes through
            }
        } catch (IOException e) {
            throw new DatasetException("cannot read shard " + DatasetLocation.display(file) + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private void checkSchema(int shard) {
        org.apache.hadoop.fs.Path file = shardFiles.get(shard);
        String shown = DatasetLocation.display(file);
        ArrowFileReader r = openShard(file);
        try {
            Schema actual = r.getVectorSchemaRoot().getSchema();
            if (!actual.equals(expectedSchema)) {
                DatasetHeader h;
                try {
                    h = DatasetSchema.headerOf(actual);
                } catch (DatasetException e) {
                    throw new DatasetException("shard " + shown + ": " + e.getMessage() + "; " + RERUN, e);
                }
                throw new DatasetException("shard " + shown + " does not match the manifest's schema: "
                        + SchemaDifference.describe(expectedSchema, actual) + " (shard header " + h + "); the shard belongs "
                        + "to another dataset: " + RERUN);
            }
        } catch (IOException e) {
            throw new DatasetException("shard " + shown + " is not a readable Arrow file (" + e.getMessage() + "); " + RERUN, e);
        } finally {
            closeReader(r);
        }
    }

    private ArrowFileReader openShard(org.apache.hadoop.fs.Path file) {
        if (closed) {
            throw new IllegalStateException("dataset reader is closed");
        }
        try {
            long size = fs.getFileStatus(file).getLen();
            ArrowFileReader r = new ArrowFileReader(new HadoopReadChannel(fs.open(file), size), allocator);
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
            throw new DatasetException("shard " + DatasetLocation.display(file) + " is not a readable Arrow IPC file ("
                    + e.getMessage() + "); " + RERUN, e);
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

    /** Rows of a shard, one record batch in memory at a time; close it to release the batch if not read to its end. */
    public interface ShardRows extends Iterator<PackedSequence>, AutoCloseable {
        @Override
        void close();
    }

    /** Streams rows of shards [from, to), one record batch in memory at a time. */
    private final class RowIterator implements ShardRows {
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
                verifyShard(shard);
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

        @Override
        public void close() {
            if (reader != null) {
                closeReader(reader);
                reader = null;
                root = null;
            }
            shard = endShard;
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
                throw new DatasetException("shard " + DatasetLocation.display(shardFiles.get(shard)) + " holds " + rowsInShard
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
            String file = DatasetLocation.display(shardFiles.get(shard));
            if (reader != null) {
                closeReader(reader);
                reader = null;
                root = null;
            }
            return new DatasetException("shard " + file + ": " + what + " (" + e.getMessage() + "); " + RERUN, e);
        }
    }
}
