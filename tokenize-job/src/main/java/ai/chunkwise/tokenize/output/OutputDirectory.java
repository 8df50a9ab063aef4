package ai.chunkwise.tokenize.output;

import ai.chunkwise.pipeline.format.DatasetException;
import ai.chunkwise.pipeline.format.DatasetVersion;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.format.ShardEntry;
import ai.chunkwise.pipeline.lock.HeldLock;
import ai.chunkwise.pipeline.lock.OutputLock;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The output dataset directory on any Hadoop file system (layout: {@link DatasetLayout}): pre-flight checks,
 * clean-up of a killed run's leftovers, and publishing a version.
 *
 * <p>Life cycle: {@link #check} (before any Spark work) -> {@link #prepare} -> executors write the new version's
 * shards into {@code vNNNN/} -> {@link #publish} verifies them, keeps the version's manifest in
 * {@code versions/}, switches {@code manifest.json} atomically, replaces {@code _SUCCESS} atomically, and only then deletes
 * what the new version no longer lists (after --overwrite). Until the switch, {@code manifest.json} is the
 * previous version's (or absent), so a run killed at any point leaves the previous dataset readable, and the
 * next run's {@link #prepare} removes the leftovers.
 */
public final class OutputDirectory {
    private final Path dir;
    private final FileSystem fs;
    private final Configuration conf;
    private final Manifest existing;

    private OutputDirectory(Path dir, FileSystem fs, Configuration conf, Manifest existing) {
        this.dir = dir;
        this.fs = fs;
        this.conf = conf;
        this.existing = existing;
    }

    public Path path() {
        return dir;
    }

    /**
     * Under the output lock: the current manifest must still be the one {@link #check} read, or another run
     * published a version between planning and locking, and this run's plan (version number, increment) is stale.
     */
    public void requireUnchangedSincePlanned() {
        Path file = new Path(dir, Manifest.FILE_NAME);
        String now;
        try {
            now = statusOrNull(fs, file) == null ? null : readManifest(fs, file).toJson();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot re-read " + file + " (" + e.getMessage() + ")", e);
        }
        String planned = existing == null ? null : existing.toJson();
        if (!java.util.Objects.equals(now, planned)) {
            throw new IllegalArgumentException("another run published a new version of " + dir + " while this one was "
                    + "starting; run the job again (it plans from the version now current)");
        }
    }

    /** The current version's manifest, or null when the directory holds no dataset. */
    public Manifest existing() {
        return existing;
    }

    /**
     * Pre-flight: the directory must be creatable and writable and must not hold files of anything else (we
     * never delete what we did not write). Reads the current manifest, if any; whether it may be replaced or
     * extended is {@link VersionPlan}'s decision.
     */
    public static OutputDirectory check(String output, Configuration conf) {
        Path raw = new Path(output);
        FileSystem fs = DatasetLayout.fileSystem(raw, conf);
        Path dir = fs.makeQualified(raw);
        Manifest existing = null;
        try {
            FileStatus status = statusOrNull(fs, dir);
            if (status != null && !status.isDirectory()) {
                throw new IllegalArgumentException("output " + output + " is a file, not a directory; give a directory with --output");
            }
            if (status != null) {
                List<String> foreign = new ArrayList<>();
                boolean hasManifest = false;
                for (FileStatus child : fs.listStatus(dir)) {
                    String name = child.getPath().getName();
                    hasManifest |= name.equals(Manifest.FILE_NAME);
                    if (!DatasetLayout.isOurs(name)) {
                        foreign.add(name);
                    }
                }
                if (!foreign.isEmpty()) {
                    throw new IllegalArgumentException("output directory " + output + " holds files that are not part of a "
                            + "Chunkwise dataset (" + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                            + (foreign.size() > 5 ? ", ..." : "") + "); give an empty or new directory with --output");
                }
                if (hasManifest) {
                    existing = readManifest(fs, new Path(dir, Manifest.FILE_NAME));
                }
            }
            // writable? create the directory and a probe file now rather than after minutes of tokenizing
            Path tmpDir = new Path(dir, DatasetLayout.TEMP_DIR);
            if (!fs.mkdirs(tmpDir)) {
                throw new IOException("mkdirs returned false");
            }
            Path probe = new Path(tmpDir, "write-probe");
            try (FSDataOutputStream out = fs.create(probe, true)) {
                out.write(1);
            }
            fs.delete(probe, false);
        } catch (IOException e) {
            throw new IllegalArgumentException("output directory " + output + " is not writable (" + e.getMessage()
                    + "); give a writable location with --output", e);
        }
        return new OutputDirectory(dir, fs, conf, existing);
    }

    private static Manifest readManifest(FileSystem fs, Path file) throws IOException {
        byte[] bytes;
        try (var in = fs.open(file)) {
            bytes = in.readAllBytes();
        }
        try {
            return Manifest.fromJson(new String(bytes, StandardCharsets.UTF_8), file.toString());
        } catch (DatasetException e) {
            throw new IllegalArgumentException(e.getMessage() + " (or pass --overwrite to replace the dataset)", e);
        }
    }

    /**
     * Removes a killed run's leftovers: the temporary directory, a half-written manifest, and version
     * directories and kept manifests that the current manifest does not reach (numbers above the current
     * version, or versions an --overwrite replaced). Nothing the current version lists is touched.
     */
    public void prepare() {
        try {
            fs.delete(new Path(dir, DatasetLayout.MANIFEST_TMP), false);
            fs.delete(new Path(dir, DatasetLayout.SUCCESS_TMP), false);
            deleteUnreachable(existing);
            int current = existing == null || existing.datasetVersion() == null ? 0 : existing.datasetVersion().number();
            Path versions = new Path(dir, DatasetVersion.VERSIONS_DIR);
            if (fs.exists(versions)) {
                for (FileStatus v : fs.listStatus(versions)) {
                    if (DatasetVersion.numberOf(v.getPath().getName()) > current) {
                        fs.delete(v.getPath(), false);
                    }
                }
            }
            Path tmpDir = new Path(dir, DatasetLayout.TEMP_DIR);
            fs.delete(tmpDir, true);
            fs.mkdirs(tmpDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean output directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Under the output lock, a run with nothing to do leaves the dataset as it found it: it drops the pre-flight's
     * temporary directory and what a killed run left behind (as {@link #prepare} does), nothing the current version
     * lists.
     */
    public void leaveUnchanged() {
        prepare();
        try {
            fs.delete(new Path(dir, DatasetLayout.TEMP_DIR), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + new Path(dir, DatasetLayout.TEMP_DIR) + ": " + e.getMessage(), e);
        }
    }

    /** Locks this output for {@code command} on whatever file system it lies (docs/reliability.md). */
    public HeldLock lock(String command, java.util.function.Consumer<String> notes) {
        return OutputLock.acquire(dir, conf, command, notes);
    }

    /** Deletes a version directory that will not be published (e.g. every record was invalid). */
    public void discard(int number) {
        try {
            fs.delete(new Path(dir, DatasetVersion.dirName(number)), true);
            fs.delete(new Path(dir, DatasetLayout.TEMP_DIR), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + new Path(dir, DatasetVersion.dirName(number)) + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Publishes a version: checks that every new shard file is in place with the size its task reported, keeps
     * the manifest as {@code versions/vNNNN.json}, switches {@code manifest.json} to it atomically, writes
     * {@code _SUCCESS}, then deletes what the new manifest no longer lists (the replaced versions after
     * --overwrite). A crash before the switch leaves the previous version current; after it, only garbage
     * that the next run's {@link #prepare} removes.
     *
     * @param newShardBytes expected size by shard path (relative to the dataset directory)
     */
    public void publish(Map<String, Long> newShardBytes, Manifest manifest) {
        int number = manifest.datasetVersion().number();
        try {
            for (Map.Entry<String, Long> e : newShardBytes.entrySet()) {
                FileStatus s = statusOrNull(fs, new Path(dir, e.getKey()));
                if (s == null || s.getLen() != e.getValue()) {
                    throw new IllegalStateException("shard " + new Path(dir, e.getKey()) + " is "
                            + (s == null ? "missing" : s.getLen() + " bytes") + " but its task wrote " + e.getValue()
                            + " bytes; was the output directory modified during the run? Re-run the job");
                }
            }
            fs.delete(new Path(dir, DatasetLayout.TEMP_DIR), true);
            byte[] json = manifest.toJson().getBytes(StandardCharsets.UTF_8);
            Path kept = new Path(dir, DatasetVersion.manifestPath(number));
            fs.mkdirs(kept.getParent());
            writeThenRename(json, new Path(kept.getParent(), kept.getName() + ".tmp"), kept);
            writeThenRename(json, new Path(dir, DatasetLayout.MANIFEST_TMP), new Path(dir, Manifest.FILE_NAME));
            // the switch is done: from here on the new version is the dataset. The marker too is replaced by a
            // rename, so a kill here leaves the previous marker whole (a re-run repairs it), never an empty one
            writeSuccessMarker(manifest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish version " + number + " of " + dir + ": " + e.getMessage(), e);
        }
        deleteUnlisted(manifest);
    }

    /** {@code _SUCCESS}'s content for a version: its number, its kept manifest and its fingerprint. */
    static String successMarker(Manifest manifest) {
        DatasetVersion v = manifest.datasetVersion();
        return "{\"version\":" + v.number() + ",\"manifest\":\"" + DatasetVersion.manifestPath(v.number())
                + "\",\"fingerprint\":\"" + v.fingerprint() + "\"}\n";
    }

    private void writeSuccessMarker(Manifest manifest) throws IOException {
        writeThenRename(successMarker(manifest).getBytes(StandardCharsets.UTF_8),
                new Path(dir, DatasetLayout.SUCCESS_TMP), new Path(dir, DatasetLayout.SUCCESS));
    }

    /**
     * Under the output lock, on a run that publishes nothing: a {@code _SUCCESS} that is missing, empty or names
     * another version than {@code manifest.json} (left by a run killed between the manifest switch and the marker,
     * or by an older build that rewrote it in place) is rewritten for the current version, so that a scheduler
     * waiting for it sees the version that is there.
     *
     * @return what was repaired, for the log, or null when the marker was right (or there is no versioned dataset)
     */
    public String repairSuccessMarker() {
        if (existing == null || existing.datasetVersion() == null) {
            return null;
        }
        Path marker = new Path(dir, DatasetLayout.SUCCESS);
        String want = successMarker(existing);
        try {
            String was = null;
            if (statusOrNull(fs, marker) != null) {
                try (var in = fs.open(marker)) {
                    was = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
            if (want.equals(was)) {
                return null;
            }
            writeSuccessMarker(existing);
            String said = was == null ? "was missing" : was.isBlank() ? "was empty" : "said " + was.trim();
            return "repaired " + ai.chunkwise.pipeline.format.DatasetLocation.display(marker) + ": it " + said + ", but manifest.json is version "
                    + existing.datasetVersion().number() + " (a run was stopped after publishing it)";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot repair " + marker + " (it does not match manifest.json, version "
                    + existing.datasetVersion().number() + "): " + e.getMessage(), e);
        }
    }

    /** After the switch: the replaced versions' directories and legacy shards (their kept manifests stay). */
    private void deleteUnlisted(Manifest published) {
        try {
            deleteUnreachable(published);
        } catch (IOException e) {
            // the new version is published and whole; what is left is garbage that the next run removes
            throw new UncheckedIOException("version published, but removing the replaced version's files in " + dir
                    + " failed (" + e.getMessage() + "); the next run removes them", e);
        }
    }

    /**
     * Deletes the version directories and legacy top-level shards that {@code current} does not list; with no
     * current manifest, all of them. Kept manifests of published versions stay.
     */
    private void deleteUnreachable(Manifest current) throws IOException {
        Set<String> live = new HashSet<>();
        if (current != null) {
            for (ShardEntry s : current.shards()) {
                int slash = s.path().indexOf('/');
                live.add(slash < 0 ? "" : s.path().substring(0, slash));
            }
        }
        for (FileStatus child : fs.listStatus(dir)) {
            String name = child.getPath().getName();
            boolean deadVersion = child.isDirectory() && DatasetVersion.numberOf(name) > 0 && !live.contains(name);
            if (deadVersion || DatasetLayout.isLegacyShard(name) && !live.contains("")) {
                // the version's kept manifest (versions/vNNNN.json) stays as its record (README, docs/cluster.md);
                // a reader that names it learns that the version was replaced
                fs.delete(child.getPath(), true);
            }
        }
    }

    private void writeThenRename(byte[] bytes, Path tmp, Path target) throws IOException {
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
            out.hsync();
        }
        renameReplacing(tmp, target);
    }

    /**
     * Atomic replace: on the local file system through java.nio (rename(2)); elsewhere through Hadoop's
     * FileContext rename with OVERWRITE (one NameNode operation on HDFS). FileSystem.rename refuses an
     * existing target on HDFS.
     */
    private void renameReplacing(Path tmp, Path target) throws IOException {
        if ("file".equals(dir.toUri().getScheme())) {
            Files.move(java.nio.file.Path.of(tmp.toUri()), java.nio.file.Path.of(target.toUri()),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        FileContext.getFileContext(dir.toUri(), conf).rename(tmp, target, Options.Rename.OVERWRITE);
    }

    private static FileStatus statusOrNull(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            return null;
        }
    }
}
