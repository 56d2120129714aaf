"""Convolution and pooling by hand in NumPy, next to `keras.ops.conv` / `keras.ops.max_pool`.

Follows the CNN slides of "Neural Network Architectures" (CNN, RNN), "The Neural Network
Zoo" (B. CNNs) and "Modern architectures" (Convolutions: edge detection, blurring,
sharpening; pooling layers):
  (a) the 5x5 matrix * vertical-edge kernel -> 3x3, top-left 6,
  (b) the binary image * [[1,0,1],[0,1,0],[1,0,1]] -> "Convolved Feature", top-left 4,
  (c) 3x3 max pooling with stride 1 -> [[3,3,3],[3,3,3],[3,2,3]],
then output sizes (n - k + 2p) / s + 1 for padding "valid"/"same" and strides, and Sobel,
blur, sharpen and outline kernels on a real photo. No training, so no --epochs or --batch-size.

    KERAS_BACKEND=torch python tutorials/cnn_basics.py
"""

# %% Settings
import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from keras_zoo import tutorial
from keras_zoo.datasets import load_sample_photo

args = tutorial.setup(__doc__, data=("embedded",), resumable=False)  # nothing is trained
photo = load_sample_photo(gray=True)  # (427, 640) in [0, 1]
print(f"data: the lectures' 5x5 examples; china.jpg (scikit-learn), gray {photo.shape}, "
      "cropped to 256x256")


# %% By hand: slide the kernel, multiply, add up (I * K)[i, j] = sum_s,r I[i+s, j+r] K[s, r]
def conv_by_hand(image, kernel, stride=1):
    """`image` (n, n) * `kernel` (k, k), no padding -> ((n - k) // stride + 1, ...)."""
    k = kernel.shape[0]
    size = (image.shape[0] - k) // stride + 1
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            patch = image[i * stride:i * stride + k, j * stride:j * stride + k]  # (k, k)
            out[i, j] = np.sum(patch * kernel)  # no flip: cross-correlation, as in the lecture
    return out


def max_pool_by_hand(image, size, stride):
    """The largest value of every `size` x `size` window, moving `stride` pixels at a time."""
    n = (image.shape[0] - size) // stride + 1
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = image[i * stride:i * stride + size, j * stride:j * stride + size].max()
    return out


# %% The same with keras.ops: NHWC images (batch, h, w, channels), kernels (kh, kw, in, out)
def keras_conv(image, kernel, strides=1, padding="valid"):
    x = ops.convert_to_tensor(image[None, :, :, None], "float32")  # (1, h, w, 1)
    w = ops.convert_to_tensor(kernel[:, :, None, None], "float32")  # (k, k, 1, 1)
    y = ops.conv(x, w, strides=strides, padding=padding)  # (1, h', w', 1)
    return ops.convert_to_numpy(y)[0, :, :, 0]


def keras_max_pool(image, size, stride):
    x = ops.convert_to_tensor(image[None, :, :, None], "float32")  # (1, h, w, 1)
    y = ops.max_pool(x, pool_size=size, strides=stride, padding="valid")  # (1, h', w', 1)
    return ops.convert_to_numpy(y)[0, :, :, 0]


def show(name, result):
    print(name + "\n" + "\n".join("    " + row for row in str(result.astype(int)).split("\n")))


# %% (a) Vertical edge detection: 5x5 * 3x3 -> 3x3
a = np.array([[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7],
              [5, 4, 4, 5, 4]], dtype="float32")
vertical_edge = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype="float32")
edges = conv_by_hand(a, vertical_edge)
np.testing.assert_allclose(keras_conv(a, vertical_edge), edges)
assert edges[0, 0] == 6  # 7 + 4 + 3 - 3 - 3 - 2
show("(a) vertical edges, by hand == keras.ops.conv", edges)
flipped = conv_by_hand(a, vertical_edge[::-1, ::-1])[0, 0]  # the textbook convolution flips K
print(f"    (flipping the kernel, the textbook convolution, would give {flipped:.0f} there)")
strided = conv_by_hand(a, vertical_edge, stride=2)  # (2, 2)
np.testing.assert_allclose(keras_conv(a, vertical_edge, strides=2), strided)
show("(a) with stride 2: (5 - 3) // 2 + 1 = 2", strided)

# %% (b) The binary image and its "Convolved Feature"
b = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
              [0, 1, 1, 0, 0]], dtype="float32")
x_kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype="float32")
feature = conv_by_hand(b, x_kernel)
np.testing.assert_allclose(keras_conv(b, x_kernel), feature)
np.testing.assert_array_equal(feature, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
show("(b) convolved feature, by hand == keras.ops.conv", feature)

# %% (c) 3x3 max pooling with stride 1
c = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
              [2, 0, 0, 0, 1]], dtype="float32")
pooled = max_pool_by_hand(c, size=3, stride=1)
maxpool_ok = (np.array_equal(keras_max_pool(c, 3, 1), pooled)
              and np.array_equal(pooled, [[3, 3, 3], [3, 3, 3], [3, 2, 3]]))
assert maxpool_ok
show("(c) 3x3 max pool, stride 1, by hand == keras.ops.max_pool", pooled)

# %% Output size: (n - k + 2p) // s + 1; padding="same" pads p = (k - 1) / 2 zeros per side
print("\n  n  k  padding  stride  p  (n - k + 2p) // s + 1  keras.ops.conv")
for n, k, padding, s in [(5, 3, "valid", 1), (5, 3, "same", 1), (5, 3, "valid", 2),
                         (5, 3, "same", 2), (32, 5, "valid", 1), (28, 2, "valid", 2)]:
    p = (k - 1) // 2 if padding == "same" else 0
    formula = (n - k + 2 * p) // s + 1
    got = keras_conv(np.ones((n, n)), np.ones((k, k)), strides=s, padding=padding).shape
    assert got == (formula, formula), (n, k, padding, s, got)
    print(f"{n:3d} {k:2d}  {padding:7s} {s:6d} {p:2d}  {formula:21d}  {got}")
print("(32, 5, valid, 1) is LeNet's C1: 32x32 -> 28x28; (28, 2, valid, 2) its S2: -> 14x14")

# %% Classic image kernels on a real photo, cropped to the pagoda: (256, 256)
crop = photo[40:296, 40:296]
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32")  # vertical edges
gx = keras_conv(crop, sobel_x, padding="same")  # (256, 256): same padding keeps the size
gy = keras_conv(crop, sobel_x.T, padding="same")  # the transpose finds horizontal edges
kernels = {
    "box blur 7x7": np.full((7, 7), 1 / 49, dtype="float32"),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype="float32"),
    "outline (8 / -1)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype="float32"),
}
filtered = {"Sobel x: vertical edges": gx, "Sobel y: horizontal edges": gy,
            "Sobel |g| = sqrt(gx² + gy²)": np.sqrt(gx**2 + gy**2)}
for name, kernel in kernels.items():  # the padded zeros show up as a frame at the borders
    filtered[name] = keras_conv(crop, kernel, padding="same")
filtered["max pool 8x8, stride 8"] = keras_max_pool(crop, 8, 8)  # (32, 32)

fig, axes = plt.subplots(2, 4, figsize=(14, 7.4))
axes[0, 0].imshow(crop, cmap="gray", vmin=0, vmax=1)
axes[0, 0].set_title("input 256x256", fontsize=10)
for ax, (name, image) in zip(axes.flat[1:], filtered.items()):
    if name.startswith(("Sobel x", "Sobel y", "outline")):  # signed: 0 is mid-gray
        limit = np.percentile(np.abs(image), 99)
        ax.imshow(image, cmap="gray", vmin=-limit, vmax=limit)
    elif name.startswith("Sobel |g|"):
        ax.imshow(image, cmap="gray", vmin=0, vmax=np.percentile(image, 99))
    else:
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)  # sharpen overshoots: clipped
    ax.set_title(f"{name}  {image.shape[0]}x{image.shape[1]}", fontsize=10)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("keras.ops.conv / max_pool with hand-made kernels (china.jpg, grayscale)")
tutorial.savefig(fig, args, "cnn_kernels.png")

# %% Result
tutorial.report(args, edge_top_left=int(edges[0, 0]), binary_top_left=int(feature[0, 0]),
                maxpool_ok=maxpool_ok)
