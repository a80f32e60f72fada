import assert from 'node:assert/strict';
import { GpuError, UserError } from '../../src/errors.js';
import { getLogLevel, setLogLevel, setLogSink } from '../../src/log.js';
import { acquireGpu, describeAdapter } from '../../src/runtime/index.js';

/** Builds a GPU object with one adapter per power preference, each wrapping the real one. */
async function fakeGpu(names: Record<GPUPowerPreference, string | null>): Promise<GPU> {
  const { create } = (await import('webgpu')) as { create(flags: string[]): GPU };
  const dawn = create([]);
  return {
    async requestAdapter(options?: GPURequestAdapterOptions) {
      const vendor = names[options?.powerPreference ?? 'high-performance'];
      if (vendor === null) return null;
      const adapter = (await dawn.requestAdapter())!;
      return {
        info: { vendor, architecture: '', device: '', description: '' },
        features: adapter.features,
        limits: adapter.limits,
        requestDevice: (descriptor?: GPUDeviceDescriptor) => adapter.requestDevice(descriptor),
      };
    },
  } as unknown as GPU;
}

describe('runtime adapter choice', () => {
  const savedEnvironment = process.env.CLINICADL_ADAPTER;
  afterEach(() => {
    if (savedEnvironment === undefined) delete process.env.CLINICADL_ADAPTER;
    else process.env.CLINICADL_ADAPTER = savedEnvironment;
  });

  it('logs the adapter at info level', async () => {
    const lines: string[] = [];
    const previousSink = setLogSink((level, scope, message) =>
      lines.push(`${level} ${scope} ${message}`),
    );
    const previousLevel = getLogLevel();
    setLogLevel('info');
    try {
      const gpu = await acquireGpu();
      gpu.destroy();
      assert.equal(lines.length, 1);
      assert.ok(lines[0]!.startsWith(`info runtime adapter: ${describeAdapter(gpu.adapterInfo)}`));
      assert.match(lines[0]!, /features: .*timestamp-query/);
    } finally {
      setLogSink(previousSink);
      setLogLevel(previousLevel);
    }
  });

  const choices = [
    {
      name: 'high-performance by default',
      option: undefined,
      env: undefined,
      expected: 'discrete',
    },
    { name: 'the option', option: 'INTEG', env: undefined, expected: 'integrated' },
    { name: 'the environment', option: undefined, env: 'integrated', expected: 'integrated' },
    {
      name: 'the option over the environment',
      option: 'discrete',
      env: 'integrated',
      expected: 'discrete',
    },
  ];
  for (const { name, option, env, expected } of choices) {
    it(`picks by ${name}`, async () => {
      if (env === undefined) delete process.env.CLINICADL_ADAPTER;
      else process.env.CLINICADL_ADAPTER = env;
      const gpu = await acquireGpu({
        gpu: await fakeGpu({ 'high-performance': 'discrete', 'low-power': 'integrated' }),
        adapterName: option,
      });
      gpu.destroy();
      assert.equal(gpu.adapterInfo.vendor, expected);
    });
  }

  it('rejects a name no adapter has', async () => {
    delete process.env.CLINICADL_ADAPTER;
    const gpu = await fakeGpu({ 'high-performance': 'discrete', 'low-power': 'integrated' });
    await assert.rejects(
      acquireGpu({ gpu, adapterName: 'quantum' }),
      (error: Error) =>
        error instanceof UserError &&
        error.message.includes("'quantum'") &&
        error.message.includes("found: 'discrete', 'integrated'"),
    );
  });

  it('reports a machine without adapters', async () => {
    delete process.env.CLINICADL_ADAPTER;
    const gpu = await fakeGpu({ 'high-performance': null, 'low-power': null });
    await assert.rejects(
      acquireGpu({ gpu }),
      (error: Error) => error instanceof GpuError && /npm run setup/.test(error.message),
    );
  });

  it('requests the adapter limits and features', async () => {
    const { create } = (await import('webgpu')) as { create(flags: string[]): GPU };
    const adapter = (await create([]).requestAdapter({ powerPreference: 'high-performance' }))!;
    const gpu = await acquireGpu();
    gpu.destroy();
    const names = [
      'maxBufferSize',
      'maxStorageBufferBindingSize',
      'maxComputeWorkgroupsPerDimension',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupStorageSize',
      'maxStorageBuffersPerShaderStage',
    ] as const;
    for (const name of names) assert.equal(gpu.limits[name], adapter.limits[name], name);
    for (const feature of ['timestamp-query', 'shader-f16', 'subgroups']) {
      assert.equal(gpu.hasFeature(feature), adapter.features.has(feature), feature);
    }
  });

  it('rejects a missing required feature', async () => {
    await assert.rejects(
      acquireGpu({ requiredFeatures: ['texture-compression-astc'] }),
      /lacks the required feature 'texture-compression-astc'/,
    );
  });
});
