package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Checks a dataset beyond its checksums: what a manifest and a schema cannot say. Shards must really lie inside
 * the dataset directory (a symbolic link may not lead out of it), every token id must be inside the tokenizer's
 * vocabulary and every loss_mask value must be 0 or 1. Kept apart from {@link DatasetReader}, which stays a
 * reader; {@link DatasetInspector} calls it.
 */
public final class DatasetContentValidator {
    private static final String RERUN = "re-run the tokenize job to rebuild the dataset";

    private final DatasetHeader header;
    private final String dataset;

    /** @param dataset the dataset's name in messages (its location) */
    public DatasetContentValidator(String dataset, DatasetHeader header) {
        this.dataset = dataset;
        this.header = header;
    }

    /**
     * Before any shard is opened: every shard the manifest lists, followed through symbolic links, must be a file
     * inside the dataset directory.
     */
    public static void requireShardsInside(Path datasetDir) {
        Path dir = datasetDir.toAbsolutePath().normalize();
        Path manifestFile = dir.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(manifestFile)) {
            return;   // DatasetReader reports a missing manifest with its own message
        }
        Manifest m;
        try {
            m = Manifest.fromJson(Files.readString(manifestFile, StandardCharsets.UTF_8), manifestFile.toString());
        } catch (IOException | RuntimeException e) {
            return;   // and a malformed one
        }
        Path realDir;
        try {
            realDir = dir.toRealPath();
        } catch (IOException e) {
            return;
        }
        for (ShardEntry shard : m.shards()) {
            Path file = dir.resolve(shard.path()).normalize();
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                continue;   // missing: DatasetReader names it
            }
            Path real;
            try {
                real = file.toRealPath();
            } catch (IOException e) {
                throw new DatasetException("shard " + file + " is a symbolic link to a missing file (" + e.getMessage()
                        + "); " + RERUN);
            }
            if (!real.startsWith(realDir)) {
                throw new DatasetException("shard " + file + " is a symbolic link that leads outside the dataset "
                        + "directory (to " + real + "); shards must be files inside " + dir + ": " + RERUN);
            }
        }
    }

    /** Checks one row. */
    public void check(PackedSequence row) {
        int vocab = header.tokenizer().vocabSize();
        int[] ids = row.inputIds();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new DatasetException("dataset " + dataset + ": sequence " + row.seqId() + " has token id " + ids[i]
                        + " at position " + i + ", outside the tokenizer's vocabulary [0, " + vocab + "); " + RERUN);
            }
        }
        byte[] mask = row.lossMask();
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != 0 && mask[i] != 1) {
                throw new DatasetException("dataset " + dataset + ": sequence " + row.seqId() + " has loss_mask value "
                        + mask[i] + " at position " + i + "; loss_mask values must be 0 or 1: " + RERUN);
            }
        }
    }
}
