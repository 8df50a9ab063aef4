package ai.chunkwise.pipeline.format;

import org.apache.hadoop.fs.FSDataInputStream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only {@link SeekableByteChannel} over a Hadoop {@link FSDataInputStream}, which is what Arrow's
 * {@code ArrowFileReader} needs to read a shard's footer and then its record batches. Written by hand because
 * neither Hadoop nor Arrow (without its native dataset module) ships this adapter; it only forwards seek/read.
 */
final class HadoopReadChannel implements SeekableByteChannel {
    private final FSDataInputStream in;
    private final long size;
    private byte[] scratch = new byte[64 << 10];
    private boolean open = true;

    HadoopReadChannel(FSDataInputStream in, long size) {
        this.in = in;
        this.size = size;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        long position = in.getPos();
        if (position >= size) {
            return -1;
        }
        int wanted = (int) Math.min(dst.remaining(), size - position);
        if (wanted == 0) {
            return 0;
        }
        if (scratch.length < Math.min(wanted, 8 << 20)) {
            scratch = new byte[Math.min(wanted, 8 << 20)];
        }
        int total = 0;
        while (total < wanted) {
            int n = in.read(scratch, 0, Math.min(scratch.length, wanted - total));
            if (n < 0) {
                break;
            }
            dst.put(scratch, 0, n);
            total += n;
        }
        return total == 0 ? -1 : total;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        return in.getPos();
    }

    @Override
    public SeekableByteChannel position(long newPosition) throws IOException {
        ensureOpen();
        in.seek(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        ensureOpen();
        return size;
    }

    @Override
    public SeekableByteChannel truncate(long newSize) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() throws IOException {
        if (open) {
            open = false;
            in.close();
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }
}
