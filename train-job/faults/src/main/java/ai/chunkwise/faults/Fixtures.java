package ai.chunkwise.faults;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.LocalDatasetWriter;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.packing.SequencePacker;
import ai.chunkwise.pipeline.tokenizer.ByteTokenizer;
import ai.chunkwise.train.model.LlamaConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/** Inputs of the suite: a seeded text corpus, a tiny byte-level model, a small dataset written in-process. */
final class Fixtures {
    static final int CHUNK = 16;
    static final int CHUNKS = 4;
    private static final String[] WORDS = {"the", "parliament", "debate", "council", "motion", "vote", "report",
            "member", "commission", "agenda", "amendment", "question", "budget", "session", "Europe", "und", "der",
            "les", "ένα", "и", "resolution", "committee", "procedure", "proposal"};

    static final ai.chunkwise.pipeline.tokenizer.TokenizerInfo BYTES = new ByteTokenizer().info();

    private Fixtures() {
    }

    /** {@code files} files of {@code lines} lines of seeded words: the same bytes for the same arguments. */
    static Path corpus(Path dir, int files, int lines, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try {
            Files.createDirectories(dir);
            for (int f = 0; f < files; f++) {
                StringBuilder b = new StringBuilder();
                for (int l = 0; l < lines; l++) {
                    int n = 3 + r.nextInt(40);
                    for (int w = 0; w < n; w++) {
                        b.append(w == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
                    }
                    b.append('\n');
                }
                Files.writeString(dir.resolve(String.format("part-%03d.txt", f)), b.toString(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /** A 2-layer byte-level Llama (vocabulary 259, hidden 16): a training step takes milliseconds. */
    static LlamaConfig tinyByteModel() {
        return new LlamaConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 2, 2, 1, 8, 1e-5, 10000.0, null, true, 4096,
                ByteTokenizer.BOS_ID, ByteTokenizer.EOS_ID);
    }

    static Path modelConfig(Path file) {
        ai.chunkwise.train.checkpoint.AtomicFiles.writeString(file, tinyByteModel().toJson());
        return file;
    }

    /** A small valid dataset (bytes tokenizer, concat packing), written with the pipeline's writer. */
    static Manifest dataset(Path dir, int documents, long seed) {
        return dataset(dir, documents, seed, CHUNK, CHUNKS);
    }

    static Manifest dataset(Path dir, int documents, long seed, int chunk, int chunks) {
        PackingSpec spec = new PackingSpec(chunk, chunks, PackingPolicy.CONCAT, true, true, BYTES);
        List<PackedSequence> rows = new ArrayList<>();
        SequencePacker packer = SequencePacker.create(spec, rows::add);
        SplittableRandom r = new SplittableRandom(seed);
        for (int d = 0; d < documents; d++) {
            int[] doc = new int[1 + r.nextInt(100)];
            for (int i = 0; i < doc.length; i++) {
                doc[i] = 32 + r.nextInt(90);
            }
            packer.accept(doc);
        }
        packer.finish();
        DatasetHeader header = new DatasetHeader(DatasetHeader.CURRENT_FORMAT_VERSION, BYTES, chunk, chunks,
                PackingPolicy.CONCAT);
        try (LocalDatasetWriter w = new LocalDatasetWriter(dir, header, 8, 4)) {
            rows.forEach(w::write);
            return w.finish("chunkwise fault suite", new TreeMap<>(), documents, new TreeMap<>());
        }
    }

    static long sizeOf(Path p) {
        if (!Files.exists(p)) {
            return 0;
        }
        try (var walk = Files.walk(p)) {
            return walk.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void copyTree(Path from, Path to) {
        try (var walk = Files.walk(from)) {
            for (Path f : walk.toList()) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
