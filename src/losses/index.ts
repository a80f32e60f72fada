// Loss configurations: one constructor per loss, as ClinicaDL's ...LossConfig classes.

import { BuiltinLoss, CrossEntropyFamilyLoss } from './configs.js';
import type { DEFINITIONS } from './definitions.js';
import './vjp.js';

type Options<N extends keyof typeof DEFINITIONS> = ConstructorParameters<typeof BuiltinLoss<N>>[1];
type CrossEntropyOptions = ConstructorParameters<typeof CrossEntropyFamilyLoss>[1];

export const CrossEntropyLossConfig = (options?: CrossEntropyOptions) =>
  new CrossEntropyFamilyLoss('CrossEntropyLoss', options);
export const NLLLossConfig = (options?: CrossEntropyOptions) =>
  new CrossEntropyFamilyLoss('NLLLoss', options);
export const MSELossConfig = (options?: Options<'MSELoss'>) => new BuiltinLoss('MSELoss', options);
export const L1LossConfig = (options?: Options<'L1Loss'>) => new BuiltinLoss('L1Loss', options);
export const SmoothL1LossConfig = (options?: Options<'SmoothL1Loss'>) =>
  new BuiltinLoss('SmoothL1Loss', options);
export const HuberLossConfig = (options?: Options<'HuberLoss'>) =>
  new BuiltinLoss('HuberLoss', options);
export const BCEWithLogitsLossConfig = (options?: Options<'BCEWithLogitsLoss'>) =>
  new BuiltinLoss('BCEWithLogitsLoss', options);
export const KLDivLossConfig = (options?: Options<'KLDivLoss'>) =>
  new BuiltinLoss('KLDivLoss', options);
export const FocalLossConfig = (options?: Options<'FocalLoss'>) =>
  new BuiltinLoss('FocalLoss', options);
export const DiceLossConfig = (options?: Options<'DiceLoss'>) =>
  new BuiltinLoss('DiceLoss', options);
export const DiceCELossConfig = (options?: Options<'DiceCELoss'>) =>
  new BuiltinLoss('DiceCELoss', options);
export const GeneralizedDiceLossConfig = (options?: Options<'GeneralizedDiceLoss'>) =>
  new BuiltinLoss('GeneralizedDiceLoss', options);
export const TverskyLossConfig = (options?: Options<'TverskyLoss'>) =>
  new BuiltinLoss('TverskyLoss', options);

export {
  BuiltinLoss,
  CrossEntropyFamilyLoss,
  CustomLoss,
  LOSS_NAMES,
  lossFromJSON,
  type LossFunction,
} from './configs.js';
export { LossConfig, type LabelData, type LossReduction, type TargetKind } from './loss.js';
export { Tensor, tensor } from './tensor.js';
