//! Typed indices into the world's `Vec`s. The simulator never handles a string id.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(/// A zone (availability zone).
    ZoneId);
id_type!(/// A fault domain inside a zone.
    FaultDomainId);
id_type!(/// A rack inside a fault domain.
    RackId);
id_type!(/// A physical host.
    HostId);
id_type!(/// A host type (hardware model).
    HostTypeId);
id_type!(/// A flavor (VM size).
    FlavorId);
id_type!(/// A workload: a named group of identical VMs.
    WorkloadId);
id_type!(/// A virtual machine.
    VmId);
id_type!(/// A Nova server group.
    ServerGroupId);
