#!/usr/bin/env python3
"""pytorch/examples mnist/main.py `Net` (seeded random weights), exported as its users do, for the ONNX opening
benchmark: `python3 bench/make_examples_net.py DIR` writes DIR/examples_net_classic.onnx (classic exporter, opset 17,
dynamic batch, 4.8 MB) and DIR/examples_net_defaults.onnx(+.data) (every default). Then
`LRP_BENCH_ONNX=DIR/examples_net_classic.onnx cargo bench --bench io -- open_onnx`. Needs torch (bench/requirements.txt).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


net = Net().eval()
x = torch.zeros(1, 1, 28, 28)
torch.onnx.export(net, (x,), os.path.join(OUT, "examples_net_classic.onnx"), dynamo=False, opset_version=17,
                  input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
torch.onnx.export(net, (x,), os.path.join(OUT, "examples_net_defaults.onnx"))
