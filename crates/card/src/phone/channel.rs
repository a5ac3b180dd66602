//! The phone behind the transports of [`crate::channel`]: in-process, and backed by its
//! file (counters saved as they change) for vpcd.

use std::convert::Infallible;
use std::path::PathBuf;

use crate::apdu::{Command, Response};
use crate::channel::CardChannel;
use crate::vpcd::{VirtualIcc, VpcdError};

use super::device::VirtualPhone;
use super::file::{PhoneFile, PhoneFileError};

/// The virtual phone in the same process: no transport at all.
impl CardChannel for VirtualPhone {
    type Error = Infallible;

    fn transmit(&mut self, command: &Command) -> Result<Response, Infallible> {
        Ok(self.process(command))
    }

    fn reset(&mut self) -> Result<Vec<u8>, Infallible> {
        VirtualPhone::reset(self);
        Ok(self.atr().to_vec())
    }
}

/// A virtual phone backed by its file: PIN counter and PIN changes are saved after each
/// command, so a phone served through vpcd in one process keeps them in the next.
#[derive(Debug)]
pub struct FileBackedPhone {
    phone: VirtualPhone,
    path: PathBuf,
}

impl FileBackedPhone {
    /// Loads the phone at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, PhoneFileError> {
        let path = path.into();
        let file = PhoneFile::load(&path)?;
        Ok(Self {
            phone: VirtualPhone::new(file),
            path,
        })
    }

    /// The phone.
    pub fn phone(&self) -> &VirtualPhone {
        &self.phone
    }

    /// The phone, e.g. to present a biometric before the tap.
    pub fn phone_mut(&mut self) -> &mut VirtualPhone {
        &mut self.phone
    }

    /// Answers raw bytes, saving changes.
    pub fn process_bytes(&mut self, raw: &[u8]) -> Result<Vec<u8>, PhoneFileError> {
        let out = self.phone.process_bytes(raw);
        self.save_if_changed()?;
        Ok(out)
    }

    fn save_if_changed(&mut self) -> Result<(), PhoneFileError> {
        if self.phone.take_changed() {
            self.phone.file().save(&self.path)?;
        }
        Ok(())
    }
}

impl CardChannel for FileBackedPhone {
    type Error = PhoneFileError;

    fn transmit(&mut self, command: &Command) -> Result<Response, PhoneFileError> {
        let r = self.phone.process(command);
        self.save_if_changed()?;
        Ok(r)
    }

    fn reset(&mut self) -> Result<Vec<u8>, PhoneFileError> {
        self.phone.reset();
        Ok(self.phone.atr().to_vec())
    }
}

impl VirtualIcc for FileBackedPhone {
    fn atr(&self) -> Vec<u8> {
        self.phone.atr().to_vec()
    }

    fn power_event(&mut self) {
        self.phone.reset();
    }

    fn answer(&mut self, apdu: &[u8]) -> Result<Vec<u8>, VpcdError> {
        self.process_bytes(apdu)
            .map_err(|e| VpcdError::Device(Box::new(e)))
    }
}
