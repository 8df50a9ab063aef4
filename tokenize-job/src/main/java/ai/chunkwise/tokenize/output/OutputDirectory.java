package ai.chunkwise.tokenize.output;

import ai.chunkwise.pipeline.format.Manifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The output dataset directory on any Hadoop file system: pre-flight checks, clean-up of an earlier
 * (complete or killed) run, and the manifest written last, atomically.
 *
 * <p>Life cycle: {@link #check} (before any Spark work) -> {@link #clear} -> executors write shards ->
 * {@link #commit} verifies them, removes the temporary directory and renames manifest.json into place.
 * Until that rename the directory holds no manifest, so a run killed at any point leaves "no dataset",
 * and the next run's {@link #clear} removes its leftovers.
 */
public final class OutputDirectory {
    private final Path dir;
    private final FileSystem fs;

    private OutputDirectory(Path dir, FileSystem fs) {
        this.dir = dir;
        this.fs = fs;
    }

    public Path path() {
        return dir;
    }

    /**
     * Pre-flight: the directory must be creatable and writable, must not hold a dataset unless
     * {@code overwrite}, and must not hold files of anything else (we never delete what we did not write).
     */
    public static OutputDirectory check(String output, boolean overwrite, Configuration conf) {
        Path raw = new Path(output);
        FileSystem fs = DatasetLayout.fileSystem(raw, conf);
        Path dir = fs.makeQualified(raw);
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
                if (hasManifest && !overwrite) {
                    throw new IllegalArgumentException("output directory " + output + " already holds a dataset ("
                            + Manifest.FILE_NAME + "); pass --overwrite (or set tokenize.overwrite = true) to replace it, "
                            + "or choose another --output");
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
        return new OutputDirectory(dir, fs);
    }

    /**
     * Removes the previous dataset (allowed by {@link #check}) and the leftovers of a killed run. The manifest
     * goes first, so that a crash during clean-up cannot leave a manifest pointing at missing shards.
     */
    public void clear() {
        try {
            fs.delete(new Path(dir, Manifest.FILE_NAME), false);
            for (FileStatus child : fs.listStatus(dir)) {
                String name = child.getPath().getName();
                if (DatasetLayout.isOurs(name) && !name.equals(DatasetLayout.TEMP_DIR)) {
                    fs.delete(child.getPath(), false);
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
     * Completes the dataset: checks that every shard file is in place with the size its task reported,
     * removes the temporary directory (failed attempts' files), and writes the manifest LAST.
     *
     * @param shardBytes expected size by shard file name
     */
    public void commit(Map<String, Long> shardBytes, Manifest manifest) {
        try {
            for (Map.Entry<String, Long> e : shardBytes.entrySet()) {
                FileStatus s = statusOrNull(fs, new Path(dir, e.getKey()));
                if (s == null || s.getLen() != e.getValue()) {
                    throw new IllegalStateException("shard " + new Path(dir, e.getKey()) + " is "
                            + (s == null ? "missing" : s.getLen() + " bytes") + " but its task wrote " + e.getValue()
                            + " bytes; was the output directory modified during the run? Re-run the job");
                }
            }
            fs.delete(new Path(dir, DatasetLayout.TEMP_DIR), true);
            Path tmp = new Path(dir, DatasetLayout.MANIFEST_TMP);
            try (FSDataOutputStream out = fs.create(tmp, true)) {
                out.write(manifest.toJson().getBytes(StandardCharsets.UTF_8));
                out.hsync();
            }
            Path target = new Path(dir, Manifest.FILE_NAME);
            if (!fs.rename(tmp, target)) {
                throw new IOException("rename of " + tmp + " to " + target + " returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the manifest of " + dir + ": " + e.getMessage(), e);
        }
    }

    private static FileStatus statusOrNull(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            return null;
        }
    }
}
